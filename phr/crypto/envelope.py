"""Sealing values with a data key; the associated data binds a value to its row and column."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from phr.crypto.errors import DecryptionError

FORMAT_VERSION = b"\x01"
KEY_ID_BYTES = 16
NONCE_BYTES = 12
HEADER_BYTES = 1 + KEY_ID_BYTES + NONCE_BYTES


def seal(plaintext: bytes, *, key: bytes, key_id: bytes, context: str) -> bytes:
    """Encrypt ``plaintext``; the token carries the format, the data key's id and the nonce."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext, _ad(key_id, context))
    return FORMAT_VERSION + key_id + nonce + sealed


class Sealer:
    """Seals many values with one key, the cipher set up once (ingest seals three values a resource).

    Tokens are those of :func:`seal`: each value gets its own random nonce."""

    def __init__(self, key: bytes, key_id: bytes) -> None:
        self._aead = AESGCM(key)
        self._head = FORMAT_VERSION + key_id
        self._ad_prefix = _ad(key_id, "")

    def seal(self, plaintext: bytes, context: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return self._head + nonce + self._aead.encrypt(nonce, plaintext, self._ad_prefix + context.encode("utf-8"))


def token_key_id(token: bytes) -> bytes:
    if len(token) < HEADER_BYTES + 16 or token[:1] != FORMAT_VERSION:
        raise DecryptionError("not a Mamori ciphertext")
    return token[1 : 1 + KEY_ID_BYTES]


def open_sealed(token: bytes, *, key: bytes, context: str) -> bytes:
    key_id = token_key_id(token)
    nonce = token[1 + KEY_ID_BYTES : HEADER_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, token[HEADER_BYTES:], _ad(key_id, context))
    except InvalidTag as exc:
        raise DecryptionError(f"ciphertext for {context.split(':', 1)[0]} failed to open") from exc


def _ad(key_id: bytes, context: str) -> bytes:
    return b"mamori|v1|" + key_id + b"|" + context.encode("utf-8")
