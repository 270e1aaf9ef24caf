"""Bulk checks: a hospital's file of identifiers checked against one project by a worker, results on disk."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class BulkCheckStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class BulkCheckFormat(models.TextChoices):
    CSV = "csv", _("CSV (system,value or SYSTEM|VALUE a line)")
    NDJSON = "ndjson", _('NDJSON ({"system", "value"} a line)')


class BulkCheck(models.Model):
    """One uploaded file of identifiers and the progress of checking it; files live in var/bulk/<id>/."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey("phr.Organisation", on_delete=models.CASCADE, related_name="+")
    client_id = models.CharField(_("API client"), max_length=64, blank=True)
    project = models.ForeignKey("consent.Project", on_delete=models.CASCADE, related_name="+")
    format = models.CharField(_("format"), max_length=8, choices=BulkCheckFormat.choices)
    language = models.CharField(_("language of reason messages"), max_length=2, default="ja")
    status = models.CharField(
        _("status"), max_length=8, choices=BulkCheckStatus.choices, default=BulkCheckStatus.QUEUED
    )
    total = models.PositiveBigIntegerField(_("lines uploaded"))
    processed = models.PositiveBigIntegerField(_("lines checked"), default=0)
    # Lines whose audit rows are recorded: on PostgreSQL a block's, with its first checkpoint, so up to a
    # block ahead of ``processed``.
    audited = models.PositiveBigIntegerField(_("lines audited"), default=0)
    permitted = models.PositiveBigIntegerField(_("lines permitted"), default=0)
    # Byte sizes of the output files at the last checkpoint: a resumed run truncates back to them.
    results_bytes = models.PositiveBigIntegerField(default=0)
    permitted_bytes = models.PositiveBigIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(_("runs started"), default=0)
    lease_until = models.DateTimeField(_("worker lease ends"), null=True, blank=True)
    error = models.CharField(_("why it failed"), max_length=300, blank=True)
    evaluated_at = models.DateTimeField(_("decisions evaluated at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("results expire at"), db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(processed__lte=models.F("total")), name="bulk_check_progress_bounded"),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(processed=models.F("total")),
                name="bulk_check_done_means_complete",
                violation_error_message=_("A bulk check is done only when every line was checked."),
            ),
        ]
        indexes = [models.Index(fields=["status", "lease_until"], name="bulk_check_status_lease_idx")]

    def __str__(self) -> str:
        return f"bulk check {self.id} ({self.status}, {self.processed}/{self.total})"
