"""Proofs as text that outside tools read.

Inclusion proofs are C2SP ``tlog-proof@v1`` (https://c2sp.org/tlog-proof)::

    c2sp.org/tlog-proof@v1
    extra <base64>            (optional, unauthenticated)
    index <N>
    <base64 hash>             (the RFC 6962 audit path, leaf's sibling first; zero or more lines)

    <signed checkpoint note, verbatim>

C2SP defines no file format for a consistency proof alone; the nearest standard text is the body of a
C2SP ``tlog-witness`` add-checkpoint request, which this module writes when the newer tree's signed
checkpoint is given::

    old <M>
    <base64 hash>             (the RFC 6962 consistency proof; zero or more lines)

    <signed checkpoint note of the newer tree, verbatim>

Without a signed checkpoint (a tree size no checkpoint was signed at), a single ``new <N>`` line takes the
checkpoint's place, so the reader knows which sizes the hashes link. See
docs/decisions/0001-tamper-evident-logs.md.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from phr.tlog.checkpoint import Checkpoint
from phr.tlog.merkle import HASH_SIZE

INCLUSION_HEADER = "c2sp.org/tlog-proof@v1"
MAX_PROOF_HASHES = 63  # a tree of at most 2⁶³ - 1 entries never needs more (tlog-witness caps it too)


class ProofFormatError(ValueError):
    """Text that is not a proof in the expected format."""


@dataclass(frozen=True)
class InclusionProof:
    """A tlog-proof@v1: entry ``index`` is in the tree of the signed ``checkpoint`` (unverified as parsed)."""

    index: int
    hashes: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None = None


@dataclass(frozen=True)
class ConsistencyProof:
    """The tree of ``old_size`` is a prefix of the tree of ``new_size`` (unverified as parsed)."""

    old_size: int
    new_size: int
    hashes: tuple[bytes, ...]
    checkpoint: str | None = None


def _decimal(text: str, what: str) -> int:
    if not text.isascii() or not text.isdigit() or str(int(text)) != text:
        raise ProofFormatError(f"{what} is a decimal number without leading zeros")
    return int(text)


def _hash_lines(hashes: Sequence[bytes]) -> str:
    if len(hashes) > MAX_PROOF_HASHES:
        raise ProofFormatError(f"a proof has at most {MAX_PROOF_HASHES} hashes")
    if any(len(h) != HASH_SIZE for h in hashes):
        raise ProofFormatError(f"each proof hash is {HASH_SIZE} bytes")
    return "".join(base64.b64encode(h).decode("ascii") + "\n" for h in hashes)


def _parse_hash(line: str) -> bytes:
    try:
        value = base64.b64decode(line.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as error:
        raise ProofFormatError("a proof hash is base64") from error
    if len(value) != HASH_SIZE:
        raise ProofFormatError(f"each proof hash is {HASH_SIZE} bytes")
    return value


def _split_lines(text: str) -> tuple[list[str], str]:
    """The lines before the first empty line, and everything after it."""
    head, blank, rest = text.partition("\n\n")
    if not blank:
        raise ProofFormatError("no empty line before the checkpoint")
    return head.split("\n"), rest


def _hashes(lines: list[str]) -> tuple[bytes, ...]:
    if len(lines) > MAX_PROOF_HASHES:
        raise ProofFormatError(f"a proof has at most {MAX_PROOF_HASHES} hashes")
    return tuple(_parse_hash(line) for line in lines)


def format_inclusion_proof(
    index: int, proof: Sequence[bytes], signed_checkpoint: str, extra: bytes | None = None
) -> str:
    """The tlog-proof@v1 text proving entry ``index`` is in the tree of ``signed_checkpoint``."""
    if index < 0:
        raise ProofFormatError("the index is not negative")
    if not signed_checkpoint.endswith("\n") or signed_checkpoint.startswith("\n"):
        raise ProofFormatError("the checkpoint is a signed note")
    extra_line = "" if extra is None else f"extra {base64.b64encode(extra).decode('ascii')}\n"
    return f"{INCLUSION_HEADER}\n{extra_line}index {index}\n{_hash_lines(proof)}\n{signed_checkpoint}"


def parse_inclusion_proof(text: str) -> InclusionProof:
    """The parts of a tlog-proof@v1 text; ProofFormatError if malformed. Check the checkpoint's signature
    (note.open_note) and the proof (merkle.check_record) before trusting it."""
    lines, checkpoint = _split_lines(text)
    if lines[0] != INCLUSION_HEADER:
        raise ProofFormatError(f"the first line is {INCLUSION_HEADER}")
    lines = lines[1:]
    extra = None
    if lines and lines[0].startswith("extra "):
        try:
            extra = base64.b64decode(lines[0].removeprefix("extra ").encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as error:
            raise ProofFormatError("the extra data is base64") from error
        lines = lines[1:]
    if not lines or not lines[0].startswith("index "):
        raise ProofFormatError("an 'index N' line follows the header")
    index = _decimal(lines[0].removeprefix("index "), "the index")
    if not checkpoint or checkpoint.startswith("\n") or not checkpoint.endswith("\n"):
        raise ProofFormatError("a signed checkpoint follows the empty line")
    return InclusionProof(index, _hashes(lines[1:]), checkpoint, extra)


def format_consistency_proof(
    old_size: int, new_size: int, proof: Sequence[bytes], signed_checkpoint: str | None = None
) -> str:
    """The text proving the tree of ``old_size`` is a prefix of the tree of ``new_size``.

    With ``signed_checkpoint`` (the note of the tree of ``new_size``) this is a C2SP tlog-witness
    add-checkpoint body; without, a ``new N`` line stands where the checkpoint would.
    """
    if not 0 <= old_size <= new_size:
        raise ProofFormatError("the old size is between 0 and the new size")
    if signed_checkpoint is None:
        tail = f"new {new_size}\n"
    else:
        if _checkpoint_size(signed_checkpoint) != new_size:
            raise ProofFormatError(f"the checkpoint is not of size {new_size}")
        tail = signed_checkpoint
    return f"old {old_size}\n{_hash_lines(proof)}\n{tail}"


def parse_consistency_proof(text: str) -> ConsistencyProof:
    """The parts of a consistency proof text; ProofFormatError if malformed. Check the checkpoint's
    signature (note.open_note) and the proof (merkle.check_tree) before trusting it."""
    lines, tail = _split_lines(text)
    if not lines[0].startswith("old "):
        raise ProofFormatError("the first line is 'old N'")
    old_size = _decimal(lines[0].removeprefix("old "), "the old size")
    hashes = _hashes(lines[1:])
    checkpoint: str | None
    if tail.startswith("new ") and tail.endswith("\n") and tail.count("\n") == 1:
        new_size, checkpoint = _decimal(tail[4:-1], "the new size"), None
    else:
        new_size, checkpoint = _checkpoint_size(tail), tail
    if old_size > new_size:
        raise ProofFormatError("the old size is not larger than the new size")
    return ConsistencyProof(old_size, new_size, hashes, checkpoint)


def _checkpoint_size(signed_checkpoint: str) -> int:
    """The tree size written in a signed checkpoint (its signature is not checked here)."""
    split = signed_checkpoint.rfind("\n\n")
    if split < 0 or not signed_checkpoint.endswith("\n"):
        raise ProofFormatError("the checkpoint is a signed note")
    try:
        return Checkpoint.parse(signed_checkpoint[: split + 1]).size
    except ValueError as error:
        raise ProofFormatError(f"the checkpoint is malformed: {error}") from error
