"""Signed notes (C2SP signed-note, https://c2sp.org/signed-note) with Ed25519 keys.

A port of golang.org/x/mod/sumdb/note, so that notes signed here open with ``note.Open`` and keys written
here load with ``note.NewVerifier``/``note.NewSigner``. A note is UTF-8 text ending in a newline, a blank
line, then one line per signature: ``— <key name> base64(key hash ‖ signature)``. The key hash is the first
four bytes of SHA-256(key name ‖ "\\n" ‖ 0x01 ‖ public key), 0x01 naming Ed25519. Keys are written as
``name+hexhash+base64(0x01 ‖ public key)`` (verifier) and ``PRIVATE+KEY+name+hexhash+base64(0x01 ‖ seed)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

ALG_ED25519 = 0x01
_SIG_PREFIX = "— "  # an em dash and a space, as the spec writes it
_MAX_SIGNATURES = 100  # Go's limit: no spending forever on a note with many signatures


class NoteError(ValueError):
    """A note or key that is malformed, or a note no known key signed (or one signed with a bad signature)."""


def is_valid_name(name: str) -> bool:
    """A key name is non-empty and has no Unicode space and no '+'."""
    return bool(name) and "+" not in name and not any(char.isspace() for char in name)


def key_hash(name: str, key_bytes: bytes) -> bytes:
    """The 4-byte key hash of a key name and its encoded public key (algorithm byte ‖ key)."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + key_bytes).digest()[:4]


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _check_name(name: str) -> None:
    if not is_valid_name(name):
        raise NoteError(f"{name!r} is not a valid key name (non-empty, no spaces, no '+')")


def _b64decode(text: str) -> bytes:
    """Strict standard base64 (padding required, no stray characters), as Go's StdEncoding reads it."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as error:
        raise NoteError("malformed base64") from error


def verifier_key(name: str, public_key: Ed25519PublicKey | bytes) -> str:
    """The verifier key ``name+hexhash+base64(0x01 ‖ public key)`` for a key name and an Ed25519 public key."""
    _check_name(name)
    raw = public_key if isinstance(public_key, bytes) else _raw_public(public_key)
    if len(raw) != 32:
        raise NoteError("an Ed25519 public key is 32 bytes")
    encoded = bytes([ALG_ED25519]) + raw
    return f"{name}+{key_hash(name, encoded).hex()}+{base64.b64encode(encoded).decode('ascii')}"


def signer_key(name: str, private_key: Ed25519PrivateKey | bytes) -> str:
    """The signer key ``PRIVATE+KEY+name+hexhash+base64(0x01 ‖ seed)``; ``private_key`` may be the 32-byte seed."""
    _check_name(name)
    if isinstance(private_key, bytes):
        private_key = _private_from_seed(private_key)
    seed = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    encoded_public = bytes([ALG_ED25519]) + _raw_public(private_key.public_key())
    hexhash = key_hash(name, encoded_public).hex()
    return f"PRIVATE+KEY+{name}+{hexhash}+{base64.b64encode(bytes([ALG_ED25519]) + seed).decode('ascii')}"


def _private_from_seed(seed: bytes) -> Ed25519PrivateKey:
    if len(seed) != 32:
        raise NoteError("an Ed25519 seed is 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(seed)


@dataclass(frozen=True)
class Signer:
    """An Ed25519 key that signs notes under a key name."""

    name: str
    key_hash: bytes
    private_key: Ed25519PrivateKey

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


@dataclass(frozen=True)
class Verifier:
    """An Ed25519 public key that checks signatures made under a key name."""

    name: str
    key_hash: bytes
    public_key: Ed25519PublicKey

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self.public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


def _key_fields(text: str, count: int) -> list[str]:
    # Go chops at the first '+' count-1 times: the base64 tail may itself contain '+'.
    fields = text.split("+", count - 1)
    if len(fields) != count:
        raise NoteError("malformed key")
    return fields


def _parse_hash(hexhash: str) -> bytes:
    if len(hexhash) != 8 or any(c not in "0123456789abcdefABCDEF" for c in hexhash):
        raise NoteError("malformed key hash")
    return bytes.fromhex(hexhash)


def parse_verifier_key(text: str) -> Verifier:
    """The verifier of a ``name+hexhash+base64`` key; NoteError if malformed or the hash does not match."""
    name, hexhash, encoded = _key_fields(text, 3)
    _check_name(name)
    expected, key = _parse_hash(hexhash), _b64decode(encoded)
    if not key:
        raise NoteError("malformed verifier key")
    if key_hash(name, key) != expected:
        raise NoteError("the verifier key's hash does not match its name and key")
    if key[0] != ALG_ED25519:
        raise NoteError("unknown verifier algorithm")
    if len(key) != 33:
        raise NoteError("an Ed25519 public key is 32 bytes")
    return Verifier(name, expected, Ed25519PublicKey.from_public_bytes(key[1:]))


def parse_signer_key(text: str) -> Signer:
    """The signer of a ``PRIVATE+KEY+name+hexhash+base64`` key; NoteError if malformed or the hash is wrong."""
    private, keyword, name, hexhash, encoded = _key_fields(text, 5)
    if private != "PRIVATE" or keyword != "KEY":
        raise NoteError("a signer key starts with PRIVATE+KEY+")
    _check_name(name)
    expected, key = _parse_hash(hexhash), _b64decode(encoded)
    if not key:
        raise NoteError("malformed signer key")
    if key[0] != ALG_ED25519:
        raise NoteError("unknown signer algorithm")
    private_key = _private_from_seed(key[1:])
    # The hash is of the public key, which only the seed gives.
    if key_hash(name, bytes([ALG_ED25519]) + _raw_public(private_key.public_key())) != expected:
        raise NoteError("the signer key's hash does not match its name and key")
    return Signer(name, expected, private_key)


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    """The note of ``text`` (which must end in a newline) signed by each of ``signers``."""
    if not text.endswith("\n"):
        raise NoteError("a note's text ends with a newline")
    _check_text(text)
    message = text.encode("utf-8")
    lines = []
    for signer in signers:
        _check_name(signer.name)
        signature = base64.b64encode(signer.key_hash + signer.sign(message)).decode("ascii")
        lines.append(f"{_SIG_PREFIX}{signer.name} {signature}\n")
    return text + "\n" + "".join(lines)


def _check_text(text: str) -> None:
    """UTF-8 with no control character but newline (Go rejects these before reading signatures)."""
    if any(ord(char) < 0x20 and char != "\n" for char in text):
        raise NoteError("malformed note: control character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise NoteError("malformed note: not UTF-8") from error


def open_note(note: str, verifier_keys: Sequence[str]) -> str:
    """The text of ``note`` if one of ``verifier_keys`` signed it and every known key's signature is valid.

    Signatures by keys not in ``verifier_keys`` are ignored, as Go's note.Open does (a note may carry
    witnesses' cosignatures). NoteError if malformed, unsigned by a known key, or badly signed.
    """
    _check_text(note)
    verifiers: dict[tuple[str, bytes], Verifier] = {}
    for key in verifier_keys:
        verifier = parse_verifier_key(key)
        if (verifier.name, verifier.key_hash) in verifiers:
            raise NoteError(f"ambiguous key {verifier.name}+{verifier.key_hash.hex()}")
        verifiers[verifier.name, verifier.key_hash] = verifier
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no blank line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise NoteError("malformed note: the signatures end with a newline")
    message = text.encode("utf-8")
    verified: set[tuple[str, bytes]] = set()
    lines = block[:-1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise NoteError("malformed note: too many signatures")
    for line in lines:
        name, signature = _signature_line(line)
        known = verifiers.get((name, signature[:4]))
        if known is None or (name, signature[:4]) in verified:
            continue
        if not known.verify(message, signature[4:]):
            raise NoteError(f"invalid signature for key {name}+{signature[:4].hex()}")
        verified.add((name, signature[:4]))
    if not verified:
        raise NoteError("the note is not signed by any known key")
    return text


def _signature_line(line: str) -> tuple[str, bytes]:
    if not line.startswith(_SIG_PREFIX):
        raise NoteError("malformed note: a signature line starts with '— '")
    name, _, encoded = line[len(_SIG_PREFIX) :].partition(" ")
    if not is_valid_name(name) or not encoded:
        raise NoteError("malformed note: bad signature line")
    signature = _b64decode(encoded)
    if len(signature) < 5:
        raise NoteError("malformed note: signature too short")
    return name, signature
