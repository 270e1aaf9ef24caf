"""Break-glass (緊急アクセス: emergency access): operator staff reading a person's record after stating a reason."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual
from django.utils.translation import gettext_lazy as _

REASON_MIN_LENGTH = 20


class ReasonCategory(models.TextChoices):
    """Why the record had to be opened without the person's say-so."""

    EMERGENCY_CARE = "emergency_care", _("Emergency care")
    UNCONSCIOUS = "patient_unconscious", _("Patient unconscious or unable to answer")
    SAFEGUARDING = "safeguarding", _("Risk to the person's life or safety")
    LEGAL_REQUEST = "legal_request", _("Legal request (court order or warrant)")
    OTHER = "other", _("Other (explained below)")


class BreakGlassGrant(models.Model):
    """A time-limited permission for one staff user to read one person's record, with the reason they gave."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey("phr.Person", on_delete=models.PROTECT, related_name="break_glass_grants")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass_grants")
    # How the staff member found the person, masked: the review list never shows a name or a full number.
    identifier_system = models.CharField(max_length=255)
    identifier_masked = models.CharField(max_length=32)
    reason_category = models.CharField(_("reason category"), max_length=32, choices=ReasonCategory.choices)
    reason = models.CharField(_("reason"), max_length=500)
    opened_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_note = models.CharField(_("review note"), max_length=1000, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["staff", "person", "-expires_at"], name="breakglass_staff_person_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=F("opened_at")), name="breakglass_expires_after_open"),
            models.CheckConstraint(
                condition=GreaterThanOrEqual(Length("reason"), REASON_MIN_LENGTH),
                name="breakglass_reason_long_enough",
            ),
            models.CheckConstraint(
                condition=Q(reviewed_at__isnull=True) | Q(reviewed_by__isnull=False),
                name="breakglass_review_names_reviewer",
            ),
        ]

    def __str__(self) -> str:
        return f"break-glass {self.id} ({self.get_reason_category_display()})"

    def is_active(self, at: datetime) -> bool:
        return self.opened_at <= at < self.expires_at
