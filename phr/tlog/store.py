"""Queueing entries into a tamper-evident log, in the caller's transaction, and reading its stored hashes.

``sequence`` and ``sequence_many`` insert the entry rows only: no lock is taken, so writers of audit events
never wait for each other. The integrator (phr.tlog.integrate) gives them their index in the order it finds
them committed (docs/decisions/0002-log-sequencing.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connection
from django.utils import timezone

from phr.models.tlog import LogHash, LogName
from phr.tlog.canonical import encode


def sequence(log: LogName | str, body: Mapping[str, Any]) -> int:
    """Queue one entry (the canonical bytes of ``body``) and return its id; call it in the event's transaction."""
    [entry_id] = sequence_many(log, [body])
    return entry_id


def sequence_many(log: LogName | str, bodies: Iterable[Mapping[str, Any]]) -> list[int]:
    """Queue several entries in the order given and return their ids, which keep that order (so will their
    indexes). Plain SQL, no model instances: every audit event, read and release pays for this."""
    log = LogName(log).value
    encoded = [encode(body) for body in bodies]
    if not encoded:
        return []
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(encoded) > 1:
            # Ids reserved first, then one COPY: nextval hands them out in increasing order.
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('phr_logentry', 'id')) FROM generate_series(1, %s)",
                [len(encoded)],
            )
            ids = sorted(row[0] for row in cursor.fetchall())
            with cursor.copy("COPY phr_logentry (id, log, body, sequenced_at, index) FROM STDIN") as copy:
                for entry_id, body in zip(ids, encoded, strict=True):
                    copy.write_row((entry_id, log, body, now, None))
            return ids
        ids = []
        for body in encoded:
            cursor.execute(
                "INSERT INTO phr_logentry (log, body, sequenced_at) VALUES (%s, %s, %s) RETURNING id", [log, body, now]
            )
            ids.append(cursor.fetchone()[0])
        return ids


def read_hashes(log: str, indexes: Sequence[int]) -> list[bytes]:
    """The stored hashes at ``indexes`` (tlog stored-hash indexes), in that order; KeyError if one is missing."""
    if not indexes:
        return []
    wanted = sorted(set(indexes))
    found: dict[int, bytes] = {}
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT index, hash FROM phr_loghash WHERE log = %s AND index = ANY(%s)", [log, chunk])
                found.update((index, bytes(value)) for index, value in cursor.fetchall())
        else:
            rows = LogHash.objects.filter(log=log, index__in=chunk).values_list("index", "hash")
            found.update((index, bytes(value)) for index, value in rows)
    return [found[index] for index in indexes]


def hash_reader(log: str) -> Any:
    """A merkle.HashReader over one log's stored hashes."""

    def read(indexes: Sequence[int]) -> list[bytes]:
        return read_hashes(log, indexes)

    return read
