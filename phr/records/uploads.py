"""Uploaded files: kept privately on disk while they wait, processed by a task into the person's store.

The file is streamed to ``var/uploads/`` (directory 0700, file 0600) by ``LimitedUploadHandler`` — never
held in memory — and deleted once processed. Until then it is the only unencrypted copy; the run's id
names it, never anything about its content.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from phr.models import Person, SyncRun, User
from phr.models.records import SyncRunKind, SyncRunStatus
from phr.records.patient import PatientIsSomeoneElse
from phr.records.reader import MalformedUpload, read_upload
from phr.records.services import ingest, upload_source_key
from phr.services import record_audit

UPLOAD_FIELD = "file"
# The multipart envelope around the file: boundaries, headers and the CSRF token.
ENVELOPE_BYTES = 64 * 1024


class UploadTooLarge(Exception):
    """The file is larger than MAMORI_UPLOAD_MAX_BYTES."""


def upload_dir() -> Path:
    directory = Path(settings.VAR_DIR) / "uploads"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def max_upload_bytes() -> int:
    return int(settings.MAMORI_UPLOAD_MAX_BYTES)


def _private_file(path: Path) -> Any:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(descriptor, "wb")


class StoredUpload(UploadedFile):
    """An uploaded file already written to a private path on disk."""

    def __init__(self, path: Path, name: str, size: int, content_type: str | None) -> None:
        super().__init__(file=None, name=name, content_type=content_type, size=size)
        self.path = path

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


class LimitedUploadHandler(FileUploadHandler):
    """Streams the one upload field to a private file, stopping as soon as it passes the size limit."""

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.limit = max_upload_bytes()
        self.too_large = False
        self.path: Path | None = None
        self.written = 0
        self._out: Any = None

    def handle_raw_input(
        self, input_data: Any, META: dict[str, Any], content_length: int, boundary: str, encoding: str | None = None
    ) -> None:
        if content_length > self.limit + ENVELOPE_BYTES:
            self.too_large = True
            raise StopUpload(connection_reset=True)

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, *args, **kwargs)
        if field_name != UPLOAD_FIELD or self._out is not None:
            raise StopUpload(connection_reset=False)
        self.path = upload_dir() / f"{uuid.uuid4()}.part"
        self._out = _private_file(self.path)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.written += len(raw_data)
        if self.written > self.limit:
            self.too_large = True
            self._abandon()
            raise StopUpload(connection_reset=False)
        self._out.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> StoredUpload | None:
        if self._out is None or self.path is None:
            return None
        self._out.close()
        self._out = None
        return StoredUpload(self.path, self.file_name or "upload", file_size, self.content_type)

    def upload_interrupted(self) -> None:
        self._abandon()

    def _abandon(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def upload_path(run: SyncRun) -> Path:
    return upload_dir() / f"{run.id}.upload"


def start_upload(*, person: Person, actor: User, upload: StoredUpload) -> SyncRun:
    """Take over an uploaded file and queue its import; the task is sent once the transaction commits."""
    from phr.records.tasks import process_upload_task

    if upload.size is not None and upload.size > max_upload_bytes():
        upload.discard()
        raise UploadTooLarge
    run = SyncRun(person=person, kind=SyncRunKind.UPLOAD, status=SyncRunStatus.QUEUED)
    try:
        with transaction.atomic():
            run.save(force_insert=True)
            os.replace(upload.path, upload_path(run))
            record_audit(
                actor=actor, person=person, action="records.upload_received", run=str(run.id), size=upload.size
            )
            transaction.on_commit(lambda: process_upload_task.delay(str(run.id)))
    except BaseException:
        upload.discard()
        upload_path(run).unlink(missing_ok=True)
        raise
    return run


def process_upload(*, run_id: object) -> SyncRun | None:
    """Import a queued upload. Safe to run twice: a finished run is left alone, and ingest dedupes."""
    run = SyncRun.objects.select_related("person").filter(pk=str(run_id), kind=SyncRunKind.UPLOAD).first()
    if run is None or run.status in (SyncRunStatus.SUCCEEDED, SyncRunStatus.FAILED):
        return run
    path = upload_path(run)
    if not path.exists():
        return _finish(run, error=_("The uploaded file is no longer available; upload it again."))
    run.status = SyncRunStatus.RUNNING
    run.started_at = timezone.now()
    run.save(update_fields=["status", "started_at"])
    person = run.person
    try:
        with translation.override(person.preferred_language), path.open("rb") as stream:
            ingest(
                person=person,
                source_key=upload_source_key(person),
                entries=read_upload(stream),
                run=run,
                check_person=True,
            )
    except (MalformedUpload, PatientIsSomeoneElse) as exc:
        return _finish(run, error=str(exc), path=path)
    except Exception:
        _finish(run, error=_("The file could not be imported because of an internal error."), path=path)
        raise
    return _finish(run, path=path)


def _finish(run: SyncRun, *, error: str = "", path: Path | None = None) -> SyncRun:
    if path is not None:
        path.unlink(missing_ok=True)
    run.refresh_from_db(fields=list(_COUNT_FIELDS))
    run.status = SyncRunStatus.FAILED if error else SyncRunStatus.SUCCEEDED
    run.error = error[:500]
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    record_audit(
        actor=None,
        person=run.person,
        action="records.upload_processed",
        run=str(run.id),
        status=run.status,
        created=run.created_count,
        updated=run.updated_count,
        rejected=run.rejected_count,
    )
    return run


_COUNT_FIELDS = (
    "created_count",
    "updated_count",
    "unchanged_count",
    "rejected_count",
    "skipped_count",
    "rejected_entries",
    "skipped_entries",
    "warnings",
)
