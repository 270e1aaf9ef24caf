"""Appending to and verifying hash chains (RecordAccess per person, AuditEvent sealed into one chain).

Each chain has a head row (``ChainHead``) holding its length and last hash. An append runs in a transaction
that first takes a PostgreSQL transaction-level advisory lock derived from the chain's key, then locks the
head row (SELECT … FOR UPDATE), so two concurrent appends never chain to the same predecessor; on SQLite the
project's IMMEDIATE transactions serialise writers already. Verification walks a chain in position order and
reports a changed row (hash mismatch), a deleted, inserted or reordered one (position or link mismatch), and
a chain whose end differs from its head (a deleted or added last row).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from django.db import connection, transaction

from phr.models.hashchain import ChainedRow, ChainHead

GENESIS_HASH = "0" * 64

Row = TypeVar("Row", bound=ChainedRow)


class Chained(Protocol):
    """What verification reads of a chained row."""

    @property
    def position(self) -> int | None: ...

    @property
    def prev_hash(self) -> str: ...

    @property
    def row_hash(self) -> str: ...

    def chain_payload(self) -> dict[str, Any]: ...


def canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link_hash(payload: dict[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(canonical(payload) + prev_hash.encode()).hexdigest()


def row_hash_of(row: Chained) -> str:
    return link_hash({**row.chain_payload(), "position": row.position}, row.prev_hash)


def advisory_lock(chain: str) -> None:
    """On PostgreSQL, hold a transaction-level lock on this chain until the transaction ends."""
    if connection.vendor == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"mamori.chain:{chain}".encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def append(row: Row) -> Row:
    """Chain ``row`` after the current head of its chain and insert it (in the caller's transaction, if any)."""
    chain = row.chain_key()
    with transaction.atomic():
        advisory_lock(chain)
        head = ChainHead.objects.select_for_update().filter(chain=chain).first()
        if head is None:
            head = ChainHead(chain=chain, length=0, head_hash=GENESIS_HASH)
        row.position = head.length + 1
        row.prev_hash = head.head_hash
        row.row_hash = row_hash_of(row)
        row.save(force_insert=True)
        head.length, head.head_hash = row.position, row.row_hash
        head.save()
    return row


def verify_chain(
    chain: str, rows: Iterable[Chained], head: ChainHead | None, describe: Callable[[Any], str]
) -> list[str]:
    """Every break in one chain, given its rows in position order; empty when the chain is intact."""
    problems: list[str] = []
    prev, expected = GENESIS_HASH, 1
    for row in rows:
        if row.position != expected:
            problems.append(
                f"{describe(row)}: at position {row.position}, expected {expected} (a row was deleted or inserted)"
            )
        if row.prev_hash != prev:
            problems.append(
                f"{describe(row)}: does not follow the previous row (a row was deleted, inserted or changed)"
            )
        if row_hash_of(row) != row.row_hash:
            problems.append(f"{describe(row)}: its content does not match its hash (the row was changed)")
        prev, expected = row.row_hash, (row.position or 0) + 1
    length, head_hash = (head.length, head.head_hash) if head is not None else (0, GENESIS_HASH)
    if expected - 1 != length or prev != head_hash:
        problems.append(
            f"chain {chain}: ends at row {expected - 1}, its head records {length} (the last row was deleted or added)"
        )
    return problems
