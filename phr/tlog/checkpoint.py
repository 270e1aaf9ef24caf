"""Checkpoints (C2SP tlog-checkpoint, https://c2sp.org/tlog-checkpoint): the text a log signs for a tree head.

    origin            e.g. mamori.example/logs/audit
    tree size         ASCII decimal, no leading zeros
    root hash         base64 of the RFC 6962 root at that size
    [extension lines] optional, non-empty, opaque

Each line ends with a newline. The text is signed as a signed note (phr.tlog.note), with the origin as the
key name.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from phr.tlog.merkle import HASH_SIZE

_MAX_TEXT = 1_000_000  # Go's ParseTree refuses longer texts too
_MAX_SIZE = 2**63 - 1  # verifiers hold sizes in int64


class CheckpointError(ValueError):
    """Text that is not a checkpoint as C2SP tlog-checkpoint defines it."""


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: its origin, how many entries it holds, and the Merkle root over them."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise CheckpointError("the origin is one non-empty line")
        if not 0 <= self.size <= _MAX_SIZE:
            raise CheckpointError("the tree size is between 0 and 2⁶³ - 1")
        if len(self.root_hash) != HASH_SIZE:
            raise CheckpointError(f"the root hash is {HASH_SIZE} bytes")
        if any(not line or "\n" in line for line in self.extensions):
            raise CheckpointError("each extension is one non-empty line")

    def text(self) -> str:
        """The note text to sign."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode("ascii"), *self.extensions]
        return "".join(f"{line}\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """The checkpoint of a note text (the part before the signatures); CheckpointError if malformed."""
        if len(text) > _MAX_TEXT or not text.endswith("\n"):
            raise CheckpointError("a checkpoint is lines each ending in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3 or any(not line for line in lines):
            raise CheckpointError("a checkpoint has at least three non-empty lines")
        origin, size_text, root_text, *extensions = lines
        if not size_text.isascii() or not size_text.isdigit() or str(int(size_text)) != size_text:
            raise CheckpointError("the tree size is a decimal number without leading zeros")
        try:
            root = base64.b64decode(root_text.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as error:
            raise CheckpointError("the root hash is not base64") from error
        if len(root) != HASH_SIZE:
            raise CheckpointError(f"the root hash is {HASH_SIZE} bytes")
        return cls(origin, int(size_text), root, tuple(extensions))
