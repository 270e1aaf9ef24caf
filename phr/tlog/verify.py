"""Verifying a log in the database against its newest published checkpoint, naming the first bad entry.

What is trusted is what lies outside the database (phr.tlog.publish): the checkpoint notes, opened with the
published verifier keys, and the leaf hashes beside them, which must reproduce every signed root. Against
those, each entry is read in index order with the row it records (an audit event, a record access, a ledger
entry) and the first difference is named with its index and kind:

- edited: the row no longer encodes to the entry's bytes, or the bytes no longer hash to the stored leaf;
- inserted: an entry sits where the published leaves have the next one later, or a row has no entry;
- deleted in the middle: an index is missing, a row is missing, or the entries after one were renumbered;
- deleted at the tail: the log ends before the checkpoint's size;
- re-hashed: the bytes and the stored hashes were rewritten consistently (old or new algorithm), which only
  the signed leaf hashes and roots expose.

Were the leaf files lost, verification narrows a re-hash to the entries between two checkpoints instead.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.apps import apps
from django.db import models

from phr.models.tlog import LogEntry, LogHash, LogName
from phr.tlog import merkle
from phr.tlog.canonical import encode
from phr.tlog.publish import LEAVES_SUFFIX, log_dir, published_sizes
from phr.tlog.signing import CheckpointError, open_checkpoint
from phr.tlog.store import read_hashes

CHUNK = 5000

# The rows each log records; looked up by label, since the ledger's model lives in the consent app.
LOG_ROWS = {LogName.LEDGER: "consent.LedgerEntry", LogName.ACCESS: "phr.RecordAccess", LogName.AUDIT: "phr.AuditEvent"}


class Kind(enum.StrEnum):
    """What was done to the first bad entry."""

    EDITED = "edited"
    INSERTED = "inserted"
    DELETED = "deleted in the middle"
    TRUNCATED = "deleted at the tail"
    REHASHED = "re-hashed"
    CHECKPOINT = "checkpoint"


@dataclass(frozen=True)
class Problem:
    """One finding: the entry's index (None when it concerns no single entry), its kind, and a sentence."""

    index: int | None
    kind: Kind
    detail: str

    def __str__(self) -> str:
        where = f"entry {self.index}" if self.index is not None else "log"
        return f"{where}: {self.kind}: {self.detail}"


@dataclass
class Report:
    """The outcome of verifying one log."""

    log: str
    size: int = 0
    checked: int = 0
    newer: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


class LoggedRow(Protocol):
    """A row recorded in a log."""

    pk: Any
    log_entry_id: int | None

    def log_body(self) -> dict[str, Any]: ...


def row_model(log: str) -> type[models.Model]:
    return apps.get_model(LOG_ROWS[LogName(log)])


class _Roots:
    """RFC 6962 roots of a growing list of leaf hashes, kept as the hashes of its perfect subtrees."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, bytes]] = []
        self.size = 0

    def add(self, leaf: bytes) -> None:
        height, value = 0, leaf
        while self.stack and self.stack[-1][0] == height:
            value = merkle.node_hash(self.stack.pop()[1], value)
            height += 1
        self.stack.append((height, value))
        self.size += 1

    def root(self) -> bytes:
        if not self.stack:
            return merkle.EMPTY_ROOT
        value = self.stack[-1][1]
        for _height, left in reversed(self.stack[:-1]):
            value = merkle.node_hash(left, value)
        return value


@dataclass
class _Published:
    sizes: list[int]
    roots: dict[int, bytes]
    leaves: bytes | None  # 32 bytes per entry, None when a leaf file is missing or wrong


def _published(log: str, report: Report) -> _Published | None:
    sizes: list[int] = []
    roots: dict[int, bytes] = {}
    for size in published_sizes(log):
        try:
            checkpoint = open_checkpoint(log, (log_dir(log) / str(size)).read_text(encoding="utf-8"))
        except (CheckpointError, OSError, UnicodeDecodeError) as error:
            report.problems.append(
                Problem(None, Kind.CHECKPOINT, f"the published checkpoint {size} does not verify: {error}")
            )
            continue
        if checkpoint.size != size:
            report.problems.append(
                Problem(None, Kind.CHECKPOINT, f"the file {size} holds the checkpoint of size {checkpoint.size}")
            )
            continue
        sizes.append(size)
        roots[size] = checkpoint.root_hash
    if not sizes:
        report.problems.append(
            Problem(None, Kind.CHECKPOINT, f"no published checkpoint of the {log} log in {log_dir(log)}")
        )
        return None
    parts, previous = [], 0
    for size in sizes:
        try:
            part = (log_dir(log) / f"{size}{LEAVES_SUFFIX}").read_bytes()
        except OSError:
            part = b""
        if len(part) != 32 * (size - previous):
            return _Published(sizes, roots, None)
        parts.append(part)
        previous = size
    leaves = b"".join(parts)
    roots_of_leaves = _Roots()
    for size in sizes:
        while roots_of_leaves.size < size:
            start = 32 * roots_of_leaves.size
            roots_of_leaves.add(leaves[start : start + 32])
        if roots_of_leaves.root() != roots[size]:
            report.problems.append(
                Problem(
                    None, Kind.CHECKPOINT, f"the published leaf hashes do not give the root checkpoint {size} signed"
                )
            )
            return _Published(sizes, roots, None)
    return _Published(sizes, roots, leaves)


def _entries(log: str, below: int) -> Iterator[list[tuple[int, int, bytes]]]:
    """The integrated entries below index ``below`` in index order, a chunk at a time: (id, index, body)."""
    after = -1
    while True:
        chunk = [
            (entry_id, int(index), bytes(body))
            for entry_id, index, body in LogEntry.objects.filter(log=log, index__gt=after, index__lt=below)
            .order_by("index")
            .values_list("id", "index", "body")[:CHUNK]
            if index is not None
        ]
        if not chunk:
            return
        yield chunk
        after = chunk[-1][1]


def _rows(log: str, entry_ids: list[int]) -> dict[int, LoggedRow]:
    rows: Iterable[Any] = row_model(log)._default_manager.filter(log_entry_id__in=entry_ids)
    return {row.log_entry_id: row for row in rows}


def _label(log: str, row: LoggedRow | None) -> str:
    model = row_model(log)
    name = str(model._meta.verbose_name)
    return f"{name} {row.pk}" if row is not None else name


def _stored_leaf_hashes(log: str, indexes: list[int]) -> dict[int, bytes]:
    if not indexes:
        return {}
    wanted = {merkle.stored_hash_index(0, i): i for i in indexes}
    rows = LogHash.objects.filter(log=log, index__in=list(wanted)).values_list("index", "hash")
    return {wanted[stored]: bytes(value) for stored, value in rows}


def _judge(
    log: str,
    expected: int,
    chunk: list[tuple[int, int, bytes]],
    position: int,
    rows: dict[int, LoggedRow],
    stored: dict[int, bytes],
    published: bytes | None,
) -> Problem | None:
    entry_id, index, body = chunk[position]
    if index != expected:
        return Problem(expected, Kind.DELETED, f"entries {expected} to {index - 1} are missing")
    leaf, stored_leaf = merkle.record_hash(body), stored.get(index)
    if published is not None and 32 * (index + 1) <= len(published):
        problem = _against_signed(index, leaf, stored_leaf, body, chunk, position, published)
    elif stored_leaf != leaf:
        problem = _unsigned_mismatch(index, stored_leaf, body)
    else:
        problem = None
    if problem is not None:
        return problem
    row = rows.get(entry_id)
    if row is None:
        return Problem(index, Kind.DELETED, f"the {_label(log, None)} this entry records is missing")
    if encode(row.log_body()) != body:
        return Problem(index, Kind.EDITED, f"{_label(log, row)} no longer matches its log entry")
    return None


def _against_signed(
    index: int,
    leaf: bytes,
    stored_leaf: bytes | None,
    body: bytes,
    chunk: list[tuple[int, int, bytes]],
    position: int,
    published: bytes,
) -> Problem | None:
    signed = published[32 * index : 32 * index + 32]
    if leaf == signed:
        if stored_leaf != signed:
            return Problem(index, Kind.REHASHED, "its stored hash was rewritten; the checkpoint signed another")
        return None
    if published[32 * index + 32 : 32 * index + 64] == leaf:
        return Problem(index, Kind.DELETED, "the entry signed at this index is gone and the later ones moved up")
    if position + 1 < len(chunk) and merkle.record_hash(chunk[position + 1][2]) == signed:
        return Problem(index, Kind.INSERTED, "this entry is not in the signed log; the signed one follows it")
    if stored_leaf == signed:
        return Problem(index, Kind.EDITED, "the entry's bytes were changed; its stored hash is still the signed one")
    return _rehashed(index, stored_leaf, body)


def _unsigned_mismatch(index: int, stored_leaf: bytes | None, body: bytes) -> Problem:
    if stored_leaf is not None and stored_leaf == hashlib.sha256(body).digest():
        return _rehashed(index, stored_leaf, body)
    return Problem(index, Kind.EDITED, "the entry's bytes no longer match its stored hash")


def _rehashed(index: int, stored_leaf: bytes | None, body: bytes) -> Problem:
    how = (
        "with the old chains' plain SHA-256"
        if stored_leaf == hashlib.sha256(body).digest()
        else "with RFC 6962 hashing"
        if stored_leaf == merkle.record_hash(body)
        else "to other values"
    )
    return Problem(
        index, Kind.REHASHED, f"the entry and its stored hashes were rewritten {how}; the checkpoint signed another"
    )


def verify_log(log: LogName | str) -> Report:
    """Check ``log`` against its newest published checkpoint; the report's first problem is the first bad entry."""
    log = LogName(log)
    report = Report(log)
    published = _published(log, report)
    if published is None:
        return report
    size = published.sizes[-1]
    report.size = size
    roots = _Roots()
    expected = 0
    first: Problem | None = None
    for chunk in _entries(log, size):
        rows = _rows(log, [entry_id for entry_id, _index, _body in chunk])
        stored = _stored_leaf_hashes(log, [index for _id, index, _body in chunk])
        for position, (_entry_id, index, body) in enumerate(chunk):
            first = _judge(log, expected, chunk, position, rows, stored, published.leaves)
            if first is not None:
                break
            roots.add(merkle.record_hash(body))
            expected = index + 1
            if expected in published.roots and roots.root() != published.roots[expected]:
                first = _narrowed(published, expected)
                break
        report.checked = expected
        if first is not None:
            break
    if first is None and expected < size:
        first = Problem(expected, Kind.TRUNCATED, f"the log ends at {expected}; the checkpoint signed {size} entries")
    if first is None:
        first = _tree_problem(log, size, published.roots[size])
    if first is not None:
        report.problems.insert(0, first)
    report.problems += _unlogged_rows(log)
    report.newer = LogEntry.objects.filter(log=log, index__gte=size).count()
    return report


def _narrowed(published: _Published, size: int) -> Problem:
    earlier = [s for s in published.sizes if s < size]
    start = earlier[-1] if earlier else 0
    return Problem(
        start,
        Kind.REHASHED,
        f"an entry from {start} to {size - 1} was rewritten with its hashes: checkpoint {size} signed another root",
    )


def _tree_problem(log: str, size: int, root: bytes) -> Problem | None:
    try:
        stored_root = merkle.tree_hash(size, lambda indexes: read_hashes(log, indexes))
    except KeyError:
        return Problem(None, Kind.REHASHED, "stored hashes of the tree are missing")
    if stored_root != root:
        return Problem(None, Kind.REHASHED, "the stored hashes of the tree give another root than the checkpoint")
    return None


def _unlogged_rows(log: str) -> list[Problem]:
    model = row_model(log)
    orphans = model._default_manager.filter(log_entry__isnull=True).values_list("pk", flat=True)[:10]
    name = str(model._meta.verbose_name)
    return [Problem(None, Kind.INSERTED, f"{name} {pk} has no log entry") for pk in orphans]
