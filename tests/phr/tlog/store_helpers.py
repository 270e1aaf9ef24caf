"""Shared by the log storage tests: a checkpoint directory per test, tampering as a database owner would,
and running the verify commands."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from phr.models import LogEntry, LogHash, LogName
from phr.tlog import merkle
from phr.tlog.integrate import integrate

# The append-only triggers of the log tables and the logged rows (phr 0008, consent 0012).
TRIGGERS = {
    "phr_logentry": ["logentry_no_delete", "logentry_indexed_once"],
    "phr_loghash": ["loghash_append_only"],
    "phr_logcheckpoint": ["logcheckpoint_append_only"],
    "phr_logstate": ["logstate_forward"],
    "phr_auditevent": ["auditevent_append_only"],
    "phr_recordaccess": ["recordaccess_append_only"],
    "consent_ledgerentry": ["ledgerentry_append_only"],
}


@pytest.fixture
def checkpoint_dir(settings, tmp_path: Path) -> Path:
    """Each test publishes its checkpoints in its own directory."""
    settings.MAMORI_LOG_CHECKPOINT_DIR = tmp_path / "checkpoints"
    return settings.MAMORI_LOG_CHECKPOINT_DIR


@contextmanager
def tampering() -> Iterator[None]:
    """What a database owner could do: on PostgreSQL first drop the guard triggers (the test's transaction
    brings them back when it rolls back)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for table, names in TRIGGERS.items():
                    for name in names:
                        cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        yield


def integrate_each(log: str) -> None:
    """Integrate one entry at a time, so each entry gets its own checkpoint."""
    while integrate(log, batch=1).added:
        pass


def run_verify(*args: str) -> tuple[bool, str]:
    """Run a verify command: (passed, what it printed)."""
    out, err = StringIO(), StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError:
        return False, err.getvalue()
    return True, out.getvalue()


def entry(log: str, index: int) -> LogEntry:
    return LogEntry.objects.get(log=log, index=index)


def rewrite_stored_hashes(log: str, *, old_algorithm_at: int | None = None) -> None:
    """Recompute every stored hash of ``log`` from the entries' bytes with RFC 6962 hashing, as an attacker
    covering an edit would; the leaf at ``old_algorithm_at`` gets the old chains' plain SHA-256 instead."""
    rows = LogEntry.objects.filter(log=log, index__isnull=False).order_by("index").values_list("index", "body")
    fresh: dict[int, bytes] = {}
    for n, (index, body) in enumerate(rows):
        plain = index == old_algorithm_at
        leaf = hashlib.sha256(bytes(body)).digest() if plain else merkle.record_hash(bytes(body))
        for stored, value in merkle.stored_hashes_for_records(n, [leaf], lambda ids: [fresh[i] for i in ids]):
            fresh[stored] = value
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM phr_loghash WHERE log = %s", [log])
    LogHash.objects.bulk_create(LogHash(log=log, index=i, hash=h) for i, h in fresh.items())


__all__ = ["LogName", "checkpoint_dir"]
