"""One decision request, recorded in the decision audit (the single-decision path).

Batches and bulk checks write many rows at once (:mod:`consent.bulk.decisions`); a single check writes one,
and on a busy API that row's round trip and commit would cost as much as the decision itself. How it is
written is ``settings.MAMORI_DECISION_AUDIT_WRITER``:

``"background"`` (the default on PostgreSQL)
    The row goes to a bounded in-process queue; a writer thread of the worker process inserts what has
    queued in one multi-row INSERT per batch and commits it durably (synchronous commit), within a few
    milliseconds. The request does not wait. A full queue (the database slower than the requests for a
    while) or a dead writer makes the request write its own row: nothing is dropped for want of room. The
    queue is flushed when the process exits normally (``atexit``, as on a gunicorn or Celery worker's
    graceful shutdown); a process killed outright loses the rows of its last few milliseconds.
``"inline"`` (the default on SQLite, and what tests use)
    The request inserts its row before answering. On PostgreSQL with ``synchronous_commit = off`` for that
    one transaction (``set_config(..., true)`` in the same statement): the answer does not wait for the WAL
    flush, which PostgreSQL makes within ``3 × wal_writer_delay``; a crash of the database server in that
    fraction of a second can lose the last rows.

Either way the answer changes nothing in the database; what is at stake is the person's view of who checked.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import threading
import time
import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction

from consent.engine import Decision
from consent.models.audit import DecisionAudit

log = logging.getLogger(__name__)

_COLUMNS = "(at, organisation_id, client_id, person_id, project_id, channel, decision, reasons, consent_version)"
_INSERT_RELAXED = """
WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true))
INSERT INTO consent_decisionaudit
    (at, organisation_id, client_id, person_id, project_id, channel, decision, reasons, consent_version)
SELECT %s::timestamptz, %s::uuid, %s::varchar, %s::uuid, %s::uuid, %s::varchar, %s::varchar, %s::jsonb, %s::integer
FROM relaxed
"""
_INSERT_MANY = "INSERT INTO consent_decisionaudit {columns} VALUES {rows}"
_ROW = "(%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s)"

IDLE_SECONDS = 1.0

Row = tuple[datetime, uuid.UUID, str, uuid.UUID, uuid.UUID, str, str, str, int | None]


def record_decision(
    *,
    organisation_id: uuid.UUID,
    client_id: str,
    person_id: uuid.UUID,
    project_id: uuid.UUID,
    channel: str,
    decision: Decision,
    at: datetime | None = None,
) -> None:
    """Record that ``organisation`` (through ``client_id``) asked about ``person_id`` and got ``decision``."""
    row: Row = (
        at or decision.at,
        organisation_id,
        client_id,
        person_id,
        project_id,
        channel,
        decision.verdict.value,
        json.dumps([reason.code for reason in decision.reasons]),
        decision.consent_version,
    )
    if connection.vendor != "postgresql":
        _create(row)
    elif writer_mode() == "background" and _writer.submit(row):
        return
    else:
        with connection.cursor() as cursor:
            cursor.execute(_INSERT_RELAXED, list(row))


def writer_mode() -> str:
    default = "background" if connection.vendor == "postgresql" else "inline"
    return str(getattr(settings, "MAMORI_DECISION_AUDIT_WRITER", "") or default)


def flush(timeout: float = 5.0) -> bool:
    """Wait until every queued row is written (True), or ``timeout`` seconds pass (False)."""
    return _writer.flush(timeout)


def _create(row: Row) -> None:
    at, organisation_id, client_id, person_id, project_id, channel, verdict, reasons, version = row
    DecisionAudit.objects.create(
        at=at,
        organisation_id=organisation_id,
        client_id=client_id,
        person_id=person_id,
        project_id=project_id,
        channel=channel,
        decision=verdict,
        reasons=json.loads(reasons),
        consent_version=version,
    )


class _Writer:
    """The process's audit writer thread and its bounded queue (started on first use, again after a fork)."""

    MAX_QUEUED = 20_000
    MAX_BATCH = 1_000

    def __init__(self) -> None:
        self._queue: queue.Queue[Row] = queue.Queue(maxsize=self.MAX_QUEUED)
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._pending = 0  # queued or being written
        self._done = threading.Condition()

    def submit(self, row: Row) -> bool:
        """Queue ``row``; False when it cannot be (the caller then writes it itself)."""
        self._ensure_thread()
        with self._done:
            try:
                self._queue.put_nowait(row)
            except queue.Full:
                return False
            self._pending += 1
        return True

    def flush(self, timeout: float) -> bool:
        with self._done:
            return self._done.wait_for(lambda: self._pending == 0, timeout)

    @property
    def pending(self) -> int:
        return self._pending

    def _ensure_thread(self) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            return
        with self._done:
            if self._pid != os.getpid():  # a forked child: the parent's queue and thread are not its own
                self._queue = queue.Queue(maxsize=self.MAX_QUEUED)
                self._pending = 0
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="decision-audit-writer", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                batch = [self._queue.get(timeout=IDLE_SECONDS)]
            except queue.Empty:  # idle: give the connection back rather than hold it open
                connections["default"].close()
                continue
            while len(batch) < self.MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)
            with self._done:
                self._pending -= len(batch)
                self._done.notify_all()

    def _write(self, batch: list[Row]) -> None:
        """Insert ``batch`` durably, retrying with backoff while the database is away (rows are kept)."""
        delay = 0.05
        while True:
            try:
                _insert_many(batch)
                return
            except Exception:
                log.warning("decision audit: writing %d row(s) failed; retrying in %.2f s", len(batch), delay)
                connections["default"].close()
                time.sleep(delay)
                delay = min(delay * 2, 5.0)


def _insert_many(batch: list[Row]) -> None:
    params: list[Any] = [value for row in batch for value in row]
    sql = _INSERT_MANY.format(columns=_COLUMNS, rows=", ".join([_ROW] * len(batch)))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


_writer = _Writer()


@atexit.register
def _flush_at_exit() -> None:
    if _writer.pending:
        _writer.flush(timeout=10.0)
