"""Background export of a large record: a worker (queue ``bulk``) writes the file encrypted, the person downloads it.

The file is ``var/exports/<job id>.enc``: a sequence of frames, each a 4-byte big-endian length and a
token sealed (AES-GCM) with the person's data key. Each frame holds up to ``FRAME_BYTES`` of the export
after one flag byte (1 on the last frame); its associated data names the job and the frame's position,
so a frame moved, swapped with another job's or cut off at the end fails to open rather than giving a
different file. A run writes ``<id>.part`` and renames it when complete; a second run starts over.
Files expire after MAMORI_EXPORT_DAYS and a beat task deletes them with their jobs.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterable, Iterator
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from phr.crypto.datakeys import data_key_for, unwrap
from phr.crypto.envelope import seal
from phr.crypto.errors import DecryptionError
from phr.ids import parse_uuid
from phr.leases import stalled_ids, take_lease
from phr.models import Person, User
from phr.models.exports import ExportFormat, ExportJob, ExportStatus
from phr.models.notices import NoticeKind
from phr.notices import notify_person
from phr.records.export import BATCH, export_pieces, raw_resources, resource_count
from phr.records.reading import Decryptor
from phr.services import record_audit

logger = logging.getLogger(__name__)

FRAME_BYTES = 1024 * 1024
LENGTH_BYTES = 4
LEASE = timedelta(minutes=15)
MAX_ATTEMPTS = 3
MORE, LAST = b"\x00", b"\x01"


def export_days() -> int:
    return int(settings.MAMORI_EXPORT_DAYS)


def exports_root() -> Path:
    return Path(settings.VAR_DIR) / "exports"


def export_path(job_id: object) -> Path:
    return exports_root() / f"{uuid.UUID(str(job_id))}.enc"


def _context(job_id: object, index: int) -> str:
    return f"phr.exportjob:{job_id}:{index}"


# -- requesting and finding jobs ------------------------------------------------------------------------------


@transaction.atomic
def request_export(*, person: Person, actor: User, fmt: str) -> ExportJob:
    """Queue a background export; while one of the same format is still being built, that one is returned."""
    fmt = ExportFormat(fmt)
    pending = (
        ExportJob.objects.filter(person=person, requested_by=actor, format=fmt)
        .filter(status__in=(ExportStatus.QUEUED, ExportStatus.RUNNING))
        .first()
    )
    if pending is not None:
        return pending
    now = timezone.now()
    job = ExportJob.objects.create(
        person=person,
        requested_by=actor,
        format=fmt,
        total=resource_count(person),
        created_at=now,
        expires_at=now + timedelta(days=export_days()),
    )
    record_audit(actor=actor, person=person, action="records.export_requested", job=str(job.pk), format=fmt)
    job_id = job.pk
    transaction.on_commit(lambda: _enqueue(job_id))
    return job


def _enqueue(job_id: uuid.UUID) -> None:
    from phr.records.export_tasks import build_export_task

    build_export_task.delay(str(job_id))


def export_jobs_of(person: Person, requester: User) -> QuerySet[ExportJob]:
    """The exports ``requester`` asked for on ``person``'s record that have not expired, newest first."""
    return ExportJob.objects.filter(person=person, requested_by=requester, expires_at__gt=timezone.now()).order_by(
        "-created_at"
    )[:10]


def export_job_for(person: Person, requester: User, job_id: object) -> ExportJob | None:
    """Fetch-and-authorise: the job only if ``requester`` asked for it on this person's record (and it is live)."""
    key = parse_uuid(job_id)
    if key is None:
        return None
    return ExportJob.objects.filter(
        pk=key, person=person, requested_by=requester, expires_at__gt=timezone.now()
    ).first()


# -- the run --------------------------------------------------------------------------------------------------


def claim(job_id: str) -> ExportJob | None:
    """Take the job if it is queued, or running under a lapsed lease; None if done, failed or held elsewhere."""
    if not take_lease(ExportJob, job_id, queued=ExportStatus.QUEUED, running=ExportStatus.RUNNING, lease=LEASE):
        return None
    job = ExportJob.objects.select_related("person__user", "requested_by").get(pk=job_id)
    if job.attempts > MAX_ATTEMPTS:
        fail(job, "The export was interrupted too often.")
        return None
    return job


def fail(job: ExportJob, reason: str) -> None:
    ExportJob.objects.filter(pk=job.pk).exclude(status=ExportStatus.READY).update(
        status=ExportStatus.FAILED, error=reason[:300], lease_until=None, finished_at=timezone.now()
    )
    export_path(job.pk).with_suffix(".part").unlink(missing_ok=True)


def build_export(job_id: str) -> ExportJob | None:
    """Build (again, from the start) a claimed job's file; a no-op when it is ready, failed or held elsewhere."""
    try:
        uuid.UUID(job_id)
    except ValueError:
        return None
    job = claim(job_id)
    if job is None:
        return None
    try:
        _build(job)
    except Exception as error:
        # The class only: a message could quote record content.
        logger.error("export %s failed: %s", job.pk, type(error).__name__)
        fail(job, "The export failed; please ask for it again.")
        raise
    job.refresh_from_db()
    if job.status == ExportStatus.READY:
        _notify_ready(job)
    return job


class _SealedWriter:
    """Buffers plaintext and writes it as sealed frames of ``FRAME_BYTES``."""

    def __init__(self, handle: IO[bytes], job: ExportJob) -> None:
        data_key = data_key_for(job.person)
        self._key, self._key_id = unwrap(data_key), data_key.id.bytes
        self._handle, self._job_id = handle, job.pk
        self._buffer = bytearray()
        self._index = 0

    def write(self, piece: bytes) -> None:
        self._buffer += piece
        while len(self._buffer) > FRAME_BYTES:
            self._frame(MORE, bytes(self._buffer[:FRAME_BYTES]))
            del self._buffer[:FRAME_BYTES]

    def close(self) -> None:
        self._frame(LAST, bytes(self._buffer))
        self._buffer.clear()

    def _frame(self, flag: bytes, plaintext: bytes) -> None:
        token = seal(flag + plaintext, key=self._key, key_id=self._key_id, context=_context(self._job_id, self._index))
        self._handle.write(len(token).to_bytes(LENGTH_BYTES, "big") + token)
        self._index += 1


class _LeaseLost(Exception):
    """The job stopped being this run's (it failed, or another run took it over)."""


def _with_progress(job: ExportJob, resources: Iterator[tuple[str, bytes]]) -> Iterator[tuple[str, bytes]]:
    for done, resource in enumerate(resources, start=1):
        yield resource
        if done % BATCH == 0:
            kept = ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(
                done=done, lease_until=timezone.now() + LEASE
            )
            if not kept:
                raise _LeaseLost


def _build(job: ExportJob) -> None:
    exports_root().mkdir(parents=True, exist_ok=True)
    final = export_path(job.pk)
    partial = final.with_suffix(".part")
    ExportJob.objects.filter(pk=job.pk).update(total=resource_count(job.person), done=0)
    written = 0

    def counted() -> Iterator[tuple[str, bytes]]:
        nonlocal written
        for resource in _with_progress(job, raw_resources(job.person)):
            written += 1
            yield resource

    try:
        with partial.open("wb") as handle:
            writer = _SealedWriter(handle, job)
            for piece in export_pieces(counted(), job.format):
                writer.write(piece)
            writer.close()
            handle.flush()
            os.fsync(handle.fileno())
    except _LeaseLost:
        return
    partial.replace(final)
    ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(
        status=ExportStatus.READY,
        total=written,
        done=written,
        size_bytes=final.stat().st_size,
        lease_until=None,
        finished_at=timezone.now(),
    )


def _notify_ready(job: ExportJob) -> None:
    """Tell whoever asked that the file is ready: the person through their notices, a proxy by mail."""
    person, requester = job.person, job.requested_by
    if requester is None:
        return
    if person.user_id == requester.pk:
        notify_person(person, NoticeKind.EXPORT_READY, link=reverse("portal:records_export"), expires_at=job.expires_at)
        return
    url = settings.MAMORI_BASE_URL.rstrip("/") + reverse("portal:records_export_for", args=[person.pk])
    with translation.override(person.preferred_language):
        subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + _("The records download you asked for is ready")
        body = "\n\n".join(
            [
                _("The file of records you asked for as a proxy is ready to download."),
                f"{_('Download')}: {url}",
                _("This message was sent by Mamori. Please do not reply."),
            ]
        )
    send_mail(subject, body, None, [requester.email])


# -- reading the file and housekeeping ----------------------------------------------------------------------


def read_export(job: ExportJob) -> Iterator[bytes]:
    """The export's plaintext, frame by frame; raises DecryptionError on a changed, reordered or cut file."""
    decryptor = Decryptor(job.person)
    with export_path(job.pk).open("rb") as handle:
        index = 0
        while True:
            length = handle.read(LENGTH_BYTES)
            if len(length) != LENGTH_BYTES:
                raise DecryptionError("the export file is incomplete")
            token = handle.read(int.from_bytes(length, "big"))
            plain = decryptor.open(token, _context(job.pk, index))
            if plain is None:
                raise DecryptionError("the export file is incomplete")
            if plain[:1] == LAST:
                if handle.read(1):
                    raise DecryptionError("the export file has data after its end")
                if plain[1:]:
                    yield plain[1:]
                return
            yield plain[1:]
            index += 1


def resume_stalled() -> list[str]:
    """Jobs whose worker died (lease lapsed) or whose queue message was lost: queue them again."""
    ids = stalled_ids(ExportJob, queued=ExportStatus.QUEUED, running=ExportStatus.RUNNING, lease=LEASE)
    for job_id in ids:
        _enqueue(uuid.UUID(job_id))
    return ids


def purge_expired() -> int:
    """Delete expired exports (their files first, then their jobs) and files whose job is gone."""
    expired = list(ExportJob.objects.filter(expires_at__lte=timezone.now()).values_list("pk", flat=True))
    for job_id in expired:
        _remove_files(job_id)
    ExportJob.objects.filter(pk__in=expired).delete()
    _remove_orphans()
    return len(expired)


def discard_exports_of(person: Person) -> int:
    """Delete the person's exports (jobs now, files once the transaction commits): called when records are
    deleted, since an export holds them. A job still running finds itself gone and its file is an orphan."""
    jobs = list(ExportJob.objects.filter(person=person).values_list("pk", flat=True))
    ExportJob.objects.filter(pk__in=jobs).delete()
    for job_id in jobs:
        transaction.on_commit(partial(_remove_files, job_id))
    return len(jobs)


def _remove_files(job_id: object) -> None:
    export_path(job_id).unlink(missing_ok=True)
    export_path(job_id).with_suffix(".part").unlink(missing_ok=True)


def _remove_orphans() -> None:
    """Files left by a job deleted with its person: older than a lease, so a file being started is kept."""
    root = exports_root()
    if not root.is_dir():
        return
    cutoff = (timezone.now() - LEASE).timestamp()
    names = {path.stem: path for path in root.iterdir() if path.suffix in (".enc", ".part")}
    known = {str(pk) for pk in ExportJob.objects.filter(pk__in=_uuids(names)).values_list("pk", flat=True)}
    for stem, path in names.items():
        if stem not in known and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def _uuids(names: Iterable[str]) -> list[uuid.UUID]:
    return [key for key in map(parse_uuid, names) if key is not None]
