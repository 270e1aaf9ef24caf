"""Exports of a whole record built in the background (a large record): the job, its progress and its file."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ExportFormat(models.TextChoices):
    BUNDLE = "bundle", _("FHIR R4 Bundle (JSON)")
    NDJSON = "ndjson", _("NDJSON (one resource a line)")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to start")
    RUNNING = "running", _("Being prepared")
    READY = "ready", _("Ready to download")
    FAILED = "failed", _("Failed")


class ExportJob(models.Model):
    """One background export of a person's record; its file is encrypted at rest under var/exports/."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey("phr.Person", on_delete=models.CASCADE, related_name="export_jobs")
    # The person themself, or a proxy with the view scope; only they see and download the job.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    format = models.CharField(_("format"), max_length=8, choices=ExportFormat.choices)
    status = models.CharField(_("status"), max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    total = models.PositiveIntegerField(_("resources to export"), default=0)
    done = models.PositiveIntegerField(_("resources written"), default=0)
    size_bytes = models.PositiveBigIntegerField(_("size of the file"), default=0)
    attempts = models.PositiveSmallIntegerField(_("runs started"), default=0)
    lease_until = models.DateTimeField(_("worker lease ends"), null=True, blank=True)
    error = models.CharField(_("why it failed"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("requested at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("file expires at"), db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["person", "requested_by", "-created_at"], name="exportjob_person_requester_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="ready") | Q(finished_at__isnull=False),
                name="exportjob_ready_has_finished",
                violation_error_message=_("An export is ready only once it has finished."),
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="exportjob_expires_after_creation"
            ),
        ]

    def __str__(self) -> str:
        return f"export {self.id} ({self.format}, {self.status}, {self.done}/{self.total})"

    @property
    def in_progress(self) -> bool:
        return self.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.READY:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0

    def is_downloadable(self, at: datetime) -> bool:
        return self.status == ExportStatus.READY and self.expires_at > at
