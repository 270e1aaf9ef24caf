"""Bulk checks: upload streamed to disk, checked in chunks by a worker on queue ``bulk``, results on disk.

Files live in ``var/bulk/<job id>/``: ``input`` (the upload as sent), ``results.ndjson`` (one line per
input line: decision and reasons) and ``permitted`` (the permitted identifiers in input order, in the
upload's format). Results are served only once the job is done, and deleted when it expires.

A run holds a lease on the job, renewed every chunk. After each chunk the output files are flushed and
fsynced, then the progress (lines done, output sizes) commits, with the audit rows of the lines decided
since the last checkpoint (on PostgreSQL, the first chunk's checkpoint of a block records the whole
block's rows; a resumed run records them again and rows already there stay). A run that dies leaves
progress that never runs ahead of the files; the next run (redelivery, or the beat task that re-queues
jobs whose lease lapsed) truncates the files back to the recorded sizes and goes on from there, with the
same evaluation instant. After ``MAX_ATTEMPTS`` runs the job fails.

On PostgreSQL lines are resolved a block (``BLOCK_LINES``) at a time by the server
(:mod:`consent.bulk.staging`), which also writes the block's audit rows; elsewhere each chunk is decided
through the ORM (:mod:`consent.bulk.evaluate`) and its audit rows inserted from Python.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from itertools import islice
from pathlib import Path
from typing import IO, NamedTuple, Protocol

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from consent.bulk.audit import AuditRun, open_run, record_rows
from consent.bulk.evaluate import ChunkEvaluator, Outcome
from consent.bulk.identifiers import accepted_systems
from consent.bulk.lines import LineParser, LineWriter, Pair, blind_indexes, data_lines, invalid_line, is_header
from consent.bulk.staging import StagedLines
from consent.disclosure import hospital_wire
from consent.duo.results import Language
from consent.engine import Decision, Verdict
from consent.linkage import Caller
from consent.models import BulkCheck, BulkCheckStatus, Project
from consent.selectors import project_request
from phr.ids import parse_uuid
from phr.leases import stalled_ids, take_lease
from phr.models import Organisation

logger = logging.getLogger(__name__)

# Lines a checkpoint covers (the work a resumed run may repeat). The audit rows of a block go in with one
# statement whatever the chunk: each statement is a pass over the rows' primary key (1,000,000 rows: 4 × 250,000
# took 3.1 – 3.7 s, 1 × 1,000,000 1.9 s).
CHUNK_LINES = 250_000
WRITE_LINES = 50_000
BLOCK_LINES = 1_000_000
LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 3
COPY_BLOCK = 1024 * 1024


class ByteStream(Protocol):
    """Anything with ``read(size) -> bytes``: a file, or the request itself."""

    def read(self, size: int = ..., /) -> bytes: ...


class UploadTooLarge(Exception):
    """The upload is larger than MAMORI_BULK_MAX_BYTES."""


def max_upload_bytes() -> int:
    return int(getattr(settings, "MAMORI_BULK_MAX_BYTES", 4 * 1024**3))


def result_days() -> int:
    return int(getattr(settings, "MAMORI_BULK_RESULT_DAYS", 7))


def bulk_root() -> Path:
    return Path(settings.VAR_DIR) / "bulk"


def job_dir(job_id: object) -> Path:
    return bulk_root() / str(uuid.UUID(str(job_id)))


# -- upload ------------------------------------------------------------------------------------------------


def _store(stream: ByteStream, path: Path, limit: int, fmt: str) -> int:
    """Copy ``stream`` to ``path`` block by block; the number of lines (the header not counted)."""
    size = lines = 0
    last = b"\n"
    with path.open("wb") as out:
        while block := stream.read(COPY_BLOCK):
            size += len(block)
            if size > limit:
                raise UploadTooLarge
            out.write(block)
            lines += block.count(b"\n")
            last = block[-1:]
        out.flush()
        os.fsync(out.fileno())
    if last != b"\n":
        lines += 1
    with path.open("rb") as stored:
        first = stored.readline()
    return lines - 1 if first and is_header(first, fmt) else lines


def create_bulk_check(
    *,
    organisation: Organisation,
    client_id: str,
    project: Project,
    fmt: str,
    language: Language,
    stream: ByteStream,
) -> BulkCheck:
    """Store the upload and queue its check; raises UploadTooLarge (nothing kept) beyond the limit."""
    job_id = uuid.uuid4()
    directory = job_dir(job_id)
    directory.mkdir(parents=True, exist_ok=False)
    try:
        total = _store(stream, directory / "input", max_upload_bytes(), fmt)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    now = timezone.now()
    with transaction.atomic():
        job = BulkCheck.objects.create(
            id=job_id,
            organisation=organisation,
            client_id=client_id,
            project=project,
            format=fmt,
            language=language,
            total=total,
            created_at=now,
            expires_at=now + timedelta(days=result_days()),
        )
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: uuid.UUID) -> None:
    from consent.bulk.tasks import run_bulk_check_task

    run_bulk_check_task.delay(str(job_id))


def bulk_check_for_organisation(organisation: Organisation, job_id: object) -> BulkCheck | None:
    """Fetch-and-authorise: the job only if ``organisation`` created it (and it has not expired)."""
    key = parse_uuid(job_id)
    if key is None:
        return None
    return BulkCheck.objects.filter(pk=key, organisation=organisation, expires_at__gt=timezone.now()).first()


# -- the run -----------------------------------------------------------------------------------------------


def claim(job_id: str) -> BulkCheck | None:
    """Take the job's lease if it is queued, or running under a lapsed lease; None if someone holds it."""
    if not take_lease(BulkCheck, job_id, queued=BulkCheckStatus.QUEUED, running=BulkCheckStatus.RUNNING, lease=LEASE):
        return None
    job = BulkCheck.objects.select_related("project", "organisation").get(pk=job_id)
    if job.attempts > MAX_ATTEMPTS:
        fail(job, "The check was interrupted too often.")
        return None
    if job.evaluated_at is None:
        job.evaluated_at = timezone.now()
        job.save(update_fields=["evaluated_at"])
    return job


def fail(job: BulkCheck, reason: str) -> None:
    BulkCheck.objects.filter(pk=job.pk).exclude(status=BulkCheckStatus.DONE).update(
        status=BulkCheckStatus.FAILED, error=reason[:300], lease_until=None, finished_at=timezone.now()
    )


def run_bulk_check(job_id: str) -> BulkCheck | None:
    """Check (the rest of) a job; a no-op when it is done, failed, or leased by another run."""
    job = claim(job_id)
    if job is None:
        return None
    try:
        _run(job)
    except Exception as error:
        # The class only: messages (e.g. a constraint's DETAIL) may quote identifiers.
        logger.error("bulk check %s failed: %s", job.pk, type(error).__name__)
        fail(job, "The check failed; please upload again.")
        raise
    return BulkCheck.objects.get(pk=job.pk)


def _open_output(path: Path, size: int) -> IO[str]:
    path.touch(exist_ok=True)
    with path.open("r+b") as handle:
        handle.truncate(size)
    return path.open("a", encoding="utf-8", newline="")


class _Mark(NamedTuple):
    results_bytes: int
    permitted_bytes: int
    permitted: int


class _Output:
    """The job's two output files and what has been written to them since the last checkpoint."""

    def __init__(self, job: BulkCheck, results: IO[str], permitted: IO[str], language: Language) -> None:
        self.job = job
        self.results = results
        self.permitted_out = permitted
        self.language = language
        self.permitted = job.permitted
        self.writer = LineWriter(job.format)
        # The JSON of each distinct decision, written once: most lines share a handful of decisions.
        self.fragments: dict[int, tuple[str, bool]] = {}

    def write(
        self,
        first: int,
        pairs: Sequence[Pair | None],
        problems: dict[int, str],
        outcome: Callable[[int], tuple[Decision, int | None]],
        skipped: int = 0,
    ) -> None:
        """The results (and permitted) lines of input lines ``first``, ``first + 1``, … in order.

        ``problems`` says what is wrong with each line that is not an identifier, by position in a list
        whose first ``skipped`` entries came before ``pairs``."""
        fragments, writer = self.fragments, self.writer
        results: list[str] = []
        permitted: list[str] = []
        for offset, pair in enumerate(pairs):
            line = first + offset
            if pair is None:
                results.append(invalid_line(line, problems[skipped + offset]))
                continue
            decision, version = outcome(line)
            fragment, permit = fragments.get(id(decision)) or fragments.setdefault(
                id(decision), _fragment(decision, self.language)
            )
            system, value = pair
            identifier = writer.identifier_json(system, value)
            version_json = "null" if version is None else version
            results.append(f'{{"line":{line},"identifier":{identifier},"consent_version":{version_json},{fragment}}}\n')
            if permit:
                permitted.append(writer.permitted_line(system, value, identifier))
            if len(results) >= WRITE_LINES:
                self.results.write("".join(results))
                results.clear()
        self.results.write("".join(results))
        self.permitted_out.write("".join(permitted))
        self.permitted += len(permitted)

    def mark(self) -> _Mark:
        """Where the files end after the lines written so far (flushed to the operating system)."""
        for handle in (self.results, self.permitted_out):
            handle.flush()
        return _Mark(self.results.tell(), self.permitted_out.tell(), self.permitted)

    def checkpoint(
        self,
        done: int,
        audit: Callable[[], None],
        written: Callable[[], _Mark] | None = None,
        audited: int | None = None,
    ) -> bool:
        """Record audit rows (``audit``), make the chunk's lines durable, then record progress, in one transaction.

        ``written`` waits until the chunk's lines are written (they may still be being written while the
        audit rows go in) and tells where they end; more lines written after that are past the mark.
        ``audited``: the lines audited once this commits (default: ``done``; never goes back).
        False when the job is no longer this run's (failed or taken over): nothing is recorded then.
        """
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # A checkpoint lost to a database crash only sends a resumed run back to the previous one, its
                # audit rows lost with it: its commit need not wait for the WAL flush.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit = off")
            audit()
            mark = written() if written is not None else self.mark()
            for handle in (self.results, self.permitted_out):
                os.fsync(handle.fileno())
            kept = BulkCheck.objects.filter(pk=self.job.pk, status=BulkCheckStatus.RUNNING).update(
                processed=done,
                audited=Greatest(F("audited"), audited if audited is not None else done),
                permitted=mark.permitted,
                results_bytes=mark.results_bytes,
                permitted_bytes=mark.permitted_bytes,
                lease_until=timezone.now() + LEASE,
            )
            if not kept:
                transaction.set_rollback(True)
        return bool(kept)


def _run(job: BulkCheck) -> None:
    assert job.evaluated_at is not None
    directory = job_dir(job.pk)
    evaluator = ChunkEvaluator(project_request(job.project), job.evaluated_at, Caller.of(job.organisation))
    parser = LineParser(job.format, accepted_systems(job.organisation))
    language: Language = "en" if job.language == "en" else "ja"
    with (
        (directory / "input").open("rb") as source,
        _open_output(directory / "results.ndjson", job.results_bytes) as results,
        _open_output(directory / "permitted", job.permitted_bytes) as permitted_out,
    ):
        lines = data_lines(source, job.format)
        for _ in range(job.processed):
            next(lines)
        run = _Run(job, lines, parser, evaluator, _Output(job, results, permitted_out, language), open_run(job))
        done = _run_staged(run) if connection.vendor == "postgresql" else _run_chunked(run)
    if done is None:
        return
    if done != job.total:
        fail(job, "The uploaded file changed while it was checked.")
        return
    BulkCheck.objects.filter(pk=job.pk, status=BulkCheckStatus.RUNNING).update(
        status=BulkCheckStatus.DONE, lease_until=None, finished_at=timezone.now()
    )
    (directory / "input").unlink(missing_ok=True)


class _Run(NamedTuple):
    """One run of a job: the input lines still to check, how to read and decide them, where the output goes."""

    job: BulkCheck
    lines: Iterator[bytes]
    parser: LineParser
    evaluator: ChunkEvaluator
    output: _Output
    audit: AuditRun


def _run_chunked(run: _Run) -> int | None:
    """Decide chunk by chunk through the ORM; the lines done, or None when the job was taken away."""
    job, lines, parser, evaluator, output, audit = run
    done = job.processed
    while done < job.total:
        raws = list(islice(lines, CHUNK_LINES))
        if not raws:
            break
        pairs, problems = parser.parse(raws)
        outcomes = evaluator.decide(pairs)
        output.write(done + 1, pairs, problems, _positional(outcomes, done + 1))
        record = partial(record_rows, audit, first_line=done + 1, outcomes=outcomes)
        done += len(raws)
        if not output.checkpoint(done, record):
            return None
    return done


def _positional(outcomes: Sequence[Outcome], first: int) -> Callable[[int], tuple[Decision, int | None]]:
    def outcome(line: int) -> tuple[Decision, int | None]:
        _, decision, version = outcomes[line - first]
        assert decision is not None
        return decision, version

    return outcome


def _run_staged(run: _Run) -> int | None:
    """Resolve a block at a time on the server, write and audit it chunk by chunk (PostgreSQL)."""
    job, lines, parser, _, output, _ = run
    staged = StagedLines(run.evaluator, run.audit)
    done = job.processed
    try:
        while done < job.total:
            raws = list(islice(lines, BLOCK_LINES))
            if not raws:
                break
            pairs, problems = parser.parse(raws)
            present = [(done + 1 + offset, pair) for offset, pair in enumerate(pairs) if pair is not None]
            valid = [pair for _, pair in present]
            staged.stage([line for line, _ in present], valid, blind_indexes)
            del present, valid
            block_end, audited_before = done + len(raws), max(done, job.audited)
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-writer") as executor:
                # Every chunk of the block is written in order by the thread while the server inserts the
                # block's audit rows; each checkpoint waits for its own chunk.
                chunks = [
                    executor.submit(_write_chunk, output, pairs, problems, staged.outcome, done + 1, start)
                    for start in range(0, len(raws), CHUNK_LINES)
                ]
                try:
                    for number, chunk in enumerate(chunks):
                        record = partial(staged.audit, after=audited_before) if number == 0 else _nothing
                        done += min(CHUNK_LINES, len(raws) - number * CHUNK_LINES)
                        if not output.checkpoint(done, record, chunk.result, audited=block_end):
                            return None
                finally:
                    for pending in chunks:
                        pending.cancel()  # nothing more to write once the run stops (done: a no-op)
    finally:
        staged.close()
    return done


def _write_chunk(
    output: _Output,
    pairs: Sequence[Pair | None],
    problems: dict[int, str],
    outcome: Callable[[int], tuple[Decision, int | None]],
    first: int,
    start: int,
) -> _Mark:
    """Write the chunk of a block starting at ``pairs[start]`` (line ``first + start``); where the files end."""
    output.write(first + start, pairs[start : start + CHUNK_LINES], problems, outcome, skipped=start)
    return output.mark()


def _nothing() -> None:
    """A later chunk's checkpoint: its rows went in with the block's first."""


def _fragment(decision: Decision, language: Language) -> tuple[str, bool]:
    """The decision's part of a results line (JSON members, no braces) and whether it permits: the hospital's
    view of it (consent.disclosure); the audit run keeps the full reasons."""
    wire = hospital_wire(decision, language)
    members = {"decision": wire["decision"], "reasons": wire["reasons"], "categories": wire["categories"]}
    return json.dumps(members, ensure_ascii=False)[1:-1], decision.verdict == Verdict.PERMIT


# -- reading results and housekeeping ------------------------------------------------------------------------


def stream_file(job: BulkCheck, name: str, size: int) -> Iterator[bytes]:
    """The first ``size`` bytes of one of the job's result files, block by block."""
    remaining = size
    with (job_dir(job.pk) / name).open("rb") as handle:
        while remaining > 0 and (block := handle.read(min(COPY_BLOCK, remaining))):
            remaining -= len(block)
            yield block


def resume_stalled() -> list[str]:
    """Jobs whose worker died (lease lapsed) or whose queue message was lost: queue them again."""
    ids = stalled_ids(BulkCheck, queued=BulkCheckStatus.QUEUED, running=BulkCheckStatus.RUNNING, lease=LEASE)
    for job_id in ids:
        _enqueue(uuid.UUID(job_id))
    return ids


def purge_expired() -> int:
    """Delete expired jobs and their files."""
    expired = list(BulkCheck.objects.filter(expires_at__lte=timezone.now()).values_list("pk", flat=True))
    for job_id in expired:
        shutil.rmtree(job_dir(job_id), ignore_errors=True)
    BulkCheck.objects.filter(pk__in=expired).delete()
    return len(expired)
