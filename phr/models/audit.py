from __future__ import annotations

from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import models

AUDIT_CHAIN = "audit"


class AuditEvent(models.Model):
    """An append-only record of a write to parties, proxies, memberships or keys (never health data).

    Hash-chained globally (chain ``audit``) by sealing: ``phr.audit_chain.seal_audit_events`` (a task run
    every minute) gives each new row, in id order, its position, the previous row's hash and its own, and
    copies the actor and person ids it names (the foreign keys may later be set to null)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    person = models.ForeignKey(
        "phr.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    action = models.CharField(max_length=64)
    detail = models.JSONField(default=dict, blank=True)
    # Set once, when the row is sealed into the chain.
    position = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    row_hash = models.CharField(max_length=64, blank=True, editable=False)
    actor_ref = models.CharField(max_length=64, blank=True, editable=False)
    person_ref = models.CharField(max_length=36, blank=True, editable=False)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["person", "-at"], name="audit_person_at_idx"),
            models.Index(fields=["id"], condition=models.Q(position__isnull=True), name="audit_unsealed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("audit events are append-only")

    def chain_payload(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "at": self.at.astimezone(UTC).isoformat(),
            "action": self.action,
            "detail": self.detail,
            "actor": self.actor_ref,
            "person": self.person_ref,
        }
