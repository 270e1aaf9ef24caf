"""The integrator: gives queued entries their index, stores the tree's new hashes and signs a checkpoint.

One log's integration is one transaction under a lock on the log's ``LogState`` row: either every entry of
the batch gets its index, its hashes and the new checkpoint, or (a crash, an error) none does and the next
run starts from the same state, so no entry is skipped or integrated twice. Queued entries are taken in id
order among those committed; one still uncommitted is integrated by a later run
(docs/decisions/0002-log-sequencing.md). After the commit the checkpoint is copied outside the database
(phr.tlog.publish); a copy missed by a crash is written by the next run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from phr.models.tlog import LogCheckpoint, LogEntry, LogHash, LogName, LogState
from phr.tlog import merkle
from phr.tlog.publish import publish_missing
from phr.tlog.signing import sign_checkpoint
from phr.tlog.store import read_hashes

BATCH = 20_000


@dataclass(frozen=True)
class Integrated:
    """What one run did to one log."""

    log: str
    added: int
    size: int


def _lock_state(log: str) -> LogState:
    LogState.objects.get_or_create(log=log, defaults={"root_hash": merkle.EMPTY_ROOT})
    return LogState.objects.select_for_update().get(log=log)


def _store_hashes(log: str, hashes: Sequence[tuple[int, bytes]]) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, cursor.copy("COPY phr_loghash (log, index, hash) FROM STDIN") as copy:
            for index, value in hashes:
                copy.write_row((log, index, value))
    else:
        LogHash.objects.bulk_create((LogHash(log=log, index=i, hash=h) for i, h in hashes), batch_size=2000)


def _assign_indexes(ids: Sequence[int], start: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE phr_logentry SET index = v.index FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, index)"
                " WHERE phr_logentry.id = v.id",
                [list(ids), list(range(start, start + len(ids)))],
            )
    else:
        with connection.cursor() as cursor:
            cursor.executemany(
                'UPDATE phr_logentry SET "index" = %s WHERE id = %s',
                [(start + offset, entry_id) for offset, entry_id in enumerate(ids)],
            )


def integrate(log: LogName | str, *, batch: int = BATCH) -> Integrated:
    """Integrate up to ``batch`` queued entries of ``log`` and sign a checkpoint; safe to run concurrently."""
    log = LogName(log)
    with transaction.atomic():
        state = _lock_state(log)
        queued = list(
            LogEntry.objects.filter(log=log, index__isnull=True).order_by("id").values_list("id", "body")[:batch]
        )
        has_checkpoint = LogCheckpoint.objects.filter(log=log, size=state.size).exists()
        start, leaves = state.size, [merkle.record_hash(bytes(body)) for _id, body in queued]
        if not queued and has_checkpoint:
            result = Integrated(log, 0, state.size)
        else:
            new_hashes = merkle.stored_hashes_for_records(start, leaves, lambda i: read_hashes(log, i))
            fresh = dict(new_hashes)

            def read(indexes: Sequence[int]) -> list[bytes]:
                missing = [i for i in indexes if i not in fresh]
                stored = dict(zip(missing, read_hashes(log, missing), strict=True))
                return [fresh[i] if i in fresh else stored[i] for i in indexes]

            size = start + len(queued)
            root = merkle.tree_hash(size, read) if size else merkle.EMPTY_ROOT
            _store_hashes(log, new_hashes)
            _assign_indexes([entry_id for entry_id, _body in queued], start)
            now = timezone.now()
            note, key_id = sign_checkpoint(log, size, root)
            LogCheckpoint.objects.create(log=log, size=size, root_hash=root, note=note, key_id=key_id, signed_at=now)
            state.size, state.root_hash, state.integrated_at = size, root, now
            state.save(update_fields=["size", "root_hash", "integrated_at"])
            result = Integrated(log, len(queued), size)
    publish_missing(log, just_integrated=(start, b"".join(leaves)))
    return result


def integrate_all(*, batch: int = BATCH) -> list[Integrated]:
    """Integrate every log until nothing is queued (at most a few batches per call, so a beat run stays short)."""
    results = []
    for log in LogName:
        for _round in range(5):
            done = integrate(log, batch=batch)
            results.append(done)
            if done.added < batch:
                break
    return results
