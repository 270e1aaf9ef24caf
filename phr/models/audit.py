from __future__ import annotations

from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """An append-only record of a write to parties, proxies, memberships or keys (never health data).

    Each event is an entry of the ``audit`` tamper-evident log (phr.tlog), queued in the same transaction;
    the entry's canonical bytes are ``log_body()``, which names the actor and person by the ids copied into
    ``actor_ref`` and ``person_ref`` (the foreign keys may later be set to null)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    person = models.ForeignKey(
        "phr.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    action = models.CharField(max_length=64)
    detail = models.JSONField(default=dict, blank=True)
    actor_ref = models.CharField(max_length=64, blank=True, editable=False)
    person_ref = models.CharField(max_length=36, blank=True, editable=False)
    log_entry = models.OneToOneField(
        "phr.LogEntry", null=True, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["person", "-at"], name="audit_person_at_idx")]

    def __str__(self) -> str:
        return f"{self.action} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("audit events are append-only")

    def log_body(self) -> dict[str, Any]:
        """What the log entry holds (its canonical bytes are RFC 8785 JSON of this)."""
        return {
            "at": self.at.astimezone(UTC).isoformat(),
            "action": self.action,
            "detail": self.detail,
            "actor": self.actor_ref,
            "person": self.person_ref,
        }
