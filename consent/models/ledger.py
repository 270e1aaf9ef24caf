"""The releases ledger: which persons' data an organisation released for a project, append-only, each entry
an entry of the ``ledger`` tamper-evident log (phr.tlog)."""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnly(Exception):
    """A ledger row may be added, never changed or deleted."""


class Release(models.Model):
    """An organisation's request to release persons' data to a project, answered once per idempotency key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey("phr.Organisation", on_delete=models.PROTECT, related_name="+")
    client_id = models.CharField(_("API client"), max_length=64, blank=True)
    project = models.ForeignKey("consent.Project", on_delete=models.PROTECT, related_name="releases")
    idempotency_key = models.CharField(_("idempotency key"), max_length=255)
    request_hash = models.CharField(_("SHA-256 of the canonical request"), max_length=64)
    created_at = models.DateTimeField(_("created at"))
    accepted = models.PositiveIntegerField(_("persons accepted"))
    refused = models.JSONField(_("identifiers refused, with reasons"), default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "idempotency_key"],
                name="release_unique_idempotency_key",
                violation_error_message=_("This idempotency key was already used."),
            )
        ]

    def __str__(self) -> str:
        return f"release {self.id} ({self.accepted} accepted)"


class LedgerEntry(models.Model):
    """One person released under a release; its log entry holds the canonical bytes of ``log_body()``."""

    id = models.BigAutoField(primary_key=True)
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="entries")
    # Plain ids, not foreign keys: the ledger outlives what it names and its hash covers these values.
    person_id = models.UUIDField(_("person"))
    project_id = models.UUIDField(_("project"))
    organisation_id = models.UUIDField(_("organisation"))
    recorded_at = models.DateTimeField(_("recorded at"))
    consent_version = models.PositiveIntegerField(_("consent version used"))
    log_entry = models.OneToOneField(
        "phr.LogEntry", null=True, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["person_id"], name="ledger_entry_person_idx")]

    def __str__(self) -> str:
        return f"ledger entry {self.id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("Ledger entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("Ledger entries cannot be deleted.")

    def log_body(self) -> dict[str, Any]:
        """What the log entry holds (its canonical bytes are RFC 8785 JSON of this)."""
        return {
            "release": str(self.release_id),
            "person": str(self.person_id),
            "project": str(self.project_id),
            "organisation": str(self.organisation_id),
            "recorded_at": self.recorded_at.astimezone(UTC).isoformat(),
            "consent_version": self.consent_version,
        }
