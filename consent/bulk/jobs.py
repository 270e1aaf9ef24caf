"""Bulk checks: upload streamed to disk, checked in chunks by a worker on queue ``bulk``, results on disk.

Files live in ``var/bulk/<job id>/``: ``input`` (the upload as sent), ``results.ndjson`` (one line per
input line: decision and reasons) and ``permitted`` (the permitted identifiers in input order, in the
upload's format). Results are served only once the job is done, and deleted when it expires.

A run holds a lease on the job, renewed every chunk. After each chunk the output files are flushed and
fsynced, then the progress (lines done, output sizes) and that chunk's audit rows commit together. A
run that dies leaves progress that never runs ahead of the files; the next run (redelivery, or the
beat task that re-queues jobs whose lease lapsed) truncates the files back to the recorded sizes and
goes on from there, with the same evaluation instant. After ``MAX_ATTEMPTS`` runs the job fails.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import timedelta
from json.encoder import encode_basestring
from pathlib import Path
from typing import IO, Any, Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from consent.bulk.decisions import record_decisions
from consent.bulk.evaluate import ChunkEvaluator
from consent.bulk.identifiers import IdentifierRef, InvalidIdentifier, accepted_systems, checked, parse_token
from consent.duo.results import Language
from consent.engine import Decision, Verdict
from consent.models import BulkCheck, BulkCheckFormat, BulkCheckStatus, DecisionChannel, Project
from consent.selectors import project_request
from phr.models import Organisation

logger = logging.getLogger(__name__)

CHUNK_LINES = 50_000
LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 3
COPY_BLOCK = 1024 * 1024
HEADERS = (b"system,value", b'"system","value"')
_CSV_SPECIAL = frozenset(',"\r\n')


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


def _is_header(first: bytes, fmt: str) -> bool:
    return fmt == BulkCheckFormat.CSV and first.strip().lstrip(b"\xef\xbb\xbf").lower() in HEADERS


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
    return lines - 1 if first and _is_header(first, fmt) else lines


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
    try:
        key = uuid.UUID(str(job_id))
    except ValueError:
        return None
    return BulkCheck.objects.filter(pk=key, organisation=organisation, expires_at__gt=timezone.now()).first()


# -- lines -------------------------------------------------------------------------------------------------


def parse_line(raw: bytes, fmt: str, accepted: frozenset[str]) -> IdentifierRef:
    """One input line as an identifier; InvalidIdentifier says what is wrong with it."""
    try:
        text = raw.decode("utf-8").strip().lstrip("\ufeff")
    except UnicodeDecodeError as error:
        raise InvalidIdentifier("The line is not UTF-8.") from error
    if not text:
        raise InvalidIdentifier("The line is empty.")
    if fmt == BulkCheckFormat.NDJSON:
        try:
            item = json.loads(text)
        except ValueError as error:
            raise InvalidIdentifier("The line is not JSON.") from error
        if not isinstance(item, dict):
            raise InvalidIdentifier("Each line is an object {system, value}.")
        return checked(item.get("system"), item.get("value"), accepted)
    fields = next(csv.reader([text]))
    if len(fields) == 2:
        return checked(fields[0], fields[1], accepted)
    if len(fields) == 1:
        return parse_token(fields[0], accepted)
    raise InvalidIdentifier("A CSV line is system,value or SYSTEM|VALUE.")


def _data_lines(handle: IO[bytes], fmt: str) -> Iterator[bytes]:
    first = True
    for raw in handle:
        if first:
            first = False
            if _is_header(raw, fmt):
                continue
        yield raw.rstrip(b"\r\n")


def _permitted_line(ref: IdentifierRef, identifier_json: str, fmt: str) -> str:
    if fmt == BulkCheckFormat.NDJSON:
        return identifier_json + "\n"
    if not (_CSV_SPECIAL & set(ref.system) or _CSV_SPECIAL & set(ref.value)):
        return f"{ref.system},{ref.value}\n"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([ref.system, ref.value])
    return buffer.getvalue()


# -- the run -----------------------------------------------------------------------------------------------


def claim(job_id: str) -> BulkCheck | None:
    """Take the job's lease if it is queued, or running under a lapsed lease; None if someone holds it."""
    now = timezone.now()
    taken = (
        BulkCheck.objects.filter(pk=job_id)
        .filter(Q(status=BulkCheckStatus.QUEUED) | Q(status=BulkCheckStatus.RUNNING, lease_until__lt=now))
        .update(status=BulkCheckStatus.RUNNING, lease_until=now + LEASE, attempts=F("attempts") + 1)
    )
    if not taken:
        return None
    job = BulkCheck.objects.select_related("project", "organisation").get(pk=job_id)
    if job.attempts > MAX_ATTEMPTS:
        fail(job, "The check was interrupted too often.")
        return None
    if job.evaluated_at is None:
        job.evaluated_at = now
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


def _run(job: BulkCheck) -> None:
    assert job.evaluated_at is not None
    directory = job_dir(job.pk)
    accepted = accepted_systems(job.organisation)
    evaluator = ChunkEvaluator(project_request(job.project), job.evaluated_at)
    language: Language = "en" if job.language == "en" else "ja"
    # The JSON of each distinct decision, written once: most lines share a handful of decisions.
    fragments: dict[int, tuple[str, bool]] = {}
    with (
        (directory / "input").open("rb") as source,
        _open_output(directory / "results.ndjson", job.results_bytes) as results,
        _open_output(directory / "permitted", job.permitted_bytes) as permitted_out,
    ):
        lines = _data_lines(source, job.format)
        for _ in range(job.processed):
            next(lines)
        done, permitted = job.processed, job.permitted
        while done < job.total:
            raw_chunk = [raw for _, raw in zip(range(CHUNK_LINES), lines, strict=False)]
            if not raw_chunk:
                break
            refs: list[IdentifierRef | None] = []
            problems: list[str | None] = []
            for raw in raw_chunk:
                try:
                    refs.append(parse_line(raw, job.format, accepted))
                    problems.append(None)
                except InvalidIdentifier as error:
                    refs.append(None)
                    problems.append(str(error))
            outcomes = evaluator.decide(refs)
            person_ids: list[uuid.UUID | None] = []
            decisions: list[Decision] = []
            versions: list[int | None] = []
            for offset, (ref, problem, (person_id, decision, version)) in enumerate(
                zip(refs, problems, outcomes, strict=True)
            ):
                line = done + offset + 1
                if ref is None or decision is None:
                    results.write(_invalid_line(line, problem or ""))
                    continue
                identifier = _identifier_json(ref)
                fragment, permit = fragments.get(id(decision)) or fragments.setdefault(
                    id(decision), _fragment(decision, language)
                )
                version_json = "null" if version is None else str(version)
                results.write(
                    f'{{"line":{line},"identifier":{identifier},"consent_version":{version_json},{fragment}}}\n'
                )
                if permit:
                    permitted += 1
                    permitted_out.write(_permitted_line(ref, identifier, job.format))
                person_ids.append(person_id)
                decisions.append(decision)
                versions.append(version)
            for handle in (results, permitted_out):
                handle.flush()
                os.fsync(handle.fileno())
            done += len(raw_chunk)
            with transaction.atomic():
                record_decisions(
                    organisation=job.organisation,
                    client_id=job.client_id,
                    project=job.project,
                    channel=DecisionChannel.BULK,
                    person_ids=person_ids,
                    decisions=decisions,
                    versions=versions,
                )
                kept = BulkCheck.objects.filter(pk=job.pk, status=BulkCheckStatus.RUNNING).update(
                    processed=done,
                    permitted=permitted,
                    results_bytes=results.tell(),
                    permitted_bytes=permitted_out.tell(),
                    lease_until=timezone.now() + LEASE,
                )
                if not kept:
                    transaction.set_rollback(True)
                    return
    if done != job.total:
        fail(job, "The uploaded file changed while it was checked.")
        return
    BulkCheck.objects.filter(pk=job.pk, status=BulkCheckStatus.RUNNING).update(
        status=BulkCheckStatus.DONE, lease_until=None, finished_at=timezone.now()
    )
    (directory / "input").unlink(missing_ok=True)


def _fragment(decision: Decision, language: Language) -> tuple[str, bool]:
    """The decision's part of a results line (JSON members, no braces) and whether it permits."""
    wire = decision.to_wire(language)
    members = {"decision": wire["decision"], "reasons": wire["reasons"], "categories": wire["categories"]}
    return json.dumps(members, ensure_ascii=False)[1:-1], decision.verdict == Verdict.PERMIT


def _identifier_json(ref: IdentifierRef) -> str:
    return f'{{"system":{encode_basestring(ref.system)},"value":{encode_basestring(ref.value)}}}'


def _invalid_line(line: int, problem: str) -> str:
    record: dict[str, Any] = {
        "line": line,
        "identifier": None,
        "consent_version": None,
        "decision": "deny",
        "reasons": [{"code": "invalid-identifier", "message": problem}],
        "categories": {},
    }
    return json.dumps(record, ensure_ascii=False) + "\n"


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
    now = timezone.now()
    stalled = BulkCheck.objects.filter(
        Q(status=BulkCheckStatus.RUNNING, lease_until__lt=now)
        | Q(status=BulkCheckStatus.QUEUED, created_at__lt=now - LEASE)
    ).values_list("pk", flat=True)
    ids = [str(pk) for pk in stalled]
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
