"""A Merkle log held in a dict, stored exactly as the database stores it (Go's stored-hash layout)."""

from __future__ import annotations

from collections.abc import Sequence

from phr.tlog import merkle


class MemoryLog:
    """Entries and their stored hashes; ``read`` is a merkle.HashReader over them."""

    def __init__(self, entries: Sequence[bytes] = ()) -> None:
        self.entries: list[bytes] = []
        self.hashes: dict[int, bytes] = {}
        self.append(entries)

    def read(self, indexes: Sequence[int]) -> list[bytes]:
        return [self.hashes[i] for i in indexes]

    def append(self, entries: Sequence[bytes]) -> None:
        leaves = [merkle.record_hash(entry) for entry in entries]
        for index, value in merkle.stored_hashes_for_records(len(self.entries), leaves, self.read):
            assert index not in self.hashes, "a stored hash is written once"
            self.hashes[index] = value
        self.entries.extend(entries)

    def root(self, size: int | None = None) -> bytes:
        return merkle.tree_hash(len(self.entries) if size is None else size, self.read)
