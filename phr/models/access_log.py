"""Who looked at a person's record (every read by anyone other than the person) and the share links they gave."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AccessRoute(models.TextChoices):
    """Why someone other than the person could read the record."""

    PROXY = "proxy", _("As a proxy")
    SHARE_LINK = "share_link", _("Through a share link")
    STAFF = "staff", _("As operator staff")
    BREAK_GLASS = "break_glass", _("In an emergency (break-glass)")


class RecordAccess(models.Model):
    """One read of a person's record by someone else: who, when, what they opened, and by which route.

    Append-only; each read is an entry of the ``access`` tamper-evident log (phr.tlog), queued in the same
    transaction. The entry (``log_body()``) covers the fields that never change; actor, proxy and share link
    may later be set to null when what they name is deleted, so the person is named by ``actor_label``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Served by the (person, -at) index below.
    person = models.ForeignKey("phr.Person", on_delete=models.CASCADE, related_name="record_accesses", db_index=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept when the actor's account is deleted, so the person still sees who it was.
    actor_label = models.CharField(max_length=255)
    route = models.CharField(max_length=16, choices=AccessRoute.choices)
    proxy = models.ForeignKey("phr.Proxy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    share_link = models.ForeignKey(
        "phr.ShareLink", null=True, blank=True, on_delete=models.SET_NULL, related_name="accesses"
    )
    page = models.CharField(max_length=64, help_text="what was read, e.g. records.timeline")
    subject = models.CharField(max_length=64, blank=True, help_text="a test key or a resource id; never its content")
    reason = models.CharField(max_length=500, blank=True, help_text="the reason given, where the route asks for one")
    break_glass = models.ForeignKey(
        "phr.BreakGlassGrant", null=True, blank=True, on_delete=models.PROTECT, related_name="accesses"
    )
    at = models.DateTimeField(default=timezone.now)
    log_entry = models.OneToOneField(
        "phr.LogEntry", null=True, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["person", "-at"], name="recordaccess_person_at_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(route=AccessRoute.PROXY) | models.Q(proxy__isnull=False),
                name="recordaccess_proxy_route_names_proxy",
            ),
            models.CheckConstraint(
                condition=~models.Q(route=AccessRoute.BREAK_GLASS) | models.Q(break_glass__isnull=False),
                name="recordaccess_break_glass_names_grant",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label} read {self.page} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("record accesses are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("record accesses are append-only")

    def log_body(self) -> dict[str, Any]:
        """What the log entry holds (its canonical bytes are RFC 8785 JSON of this)."""
        return {
            "id": str(self.id),
            "person": str(self.person_id),
            "actor_label": self.actor_label,
            "route": self.route,
            "page": self.page,
            "subject": self.subject,
            "reason": self.reason,
            "break_glass": str(self.break_glass_id or ""),
            "at": self.at.astimezone(UTC).isoformat(),
        }


class ShareLink(models.Model):
    """A link a person gives a clinician (as a URL or a QR code) to read their records summary for a while."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey("phr.Person", on_delete=models.CASCADE, related_name="share_links")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Only a digest of the token is kept: the link itself is shown once, to the person who made it.
    token_digest = models.CharField(max_length=64, unique=True)
    label = models.CharField(_("for whom"), max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The data categories (phr.categories.DataCategory values) the clinician may see; nothing else is shown.
    categories = models.JSONField(_("categories shared"), default=list)
    # A slow hash (Django's password hasher) of the optional passcode; empty when the link has none.
    passcode_hash = models.CharField(max_length=128, blank=True)
    failed_passcodes = models.PositiveSmallIntegerField(_("wrong passcodes in a row"), default=0)
    failures_since = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(_("locked after wrong passcodes until"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")), name="sharelink_expires_after_creation"
            )
        ]

    def __str__(self) -> str:
        return f"share link for {self.label} until {self.expires_at:%Y-%m-%d}"

    def is_active(self, at: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > at

    @property
    def has_passcode(self) -> bool:
        return bool(self.passcode_hash)

    def is_locked(self, at: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > at
