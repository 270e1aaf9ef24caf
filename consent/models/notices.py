from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class NoticeChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    IN_APP = "in_app", _("In the app")
    POSTAL = "postal", _("Postal letter")
    PUBLIC = "public", _("Public notice (no contact channel)")


class NoticeStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class Notice(models.Model):
    """One notification of a person about a project or a regime version; a delivered one opens the window.

    A person with no contact channel gets a ``public`` notice: the date the public notice (公示) was
    published stands for delivery. Campaigns (a later issue) create these rows.
    """

    person = models.ForeignKey("phr.Person", on_delete=models.CASCADE, related_name="notices")
    project = models.ForeignKey("consent.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    regime = models.ForeignKey("consent.Regime", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("channel"), max_length=8, choices=NoticeChannel.choices)
    status = models.CharField(_("status"), max_length=12, choices=NoticeStatus.choices, default=NoticeStatus.PENDING)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    states_commercial_use = models.BooleanField(_("states the commercial use"), default=False)
    text_version = models.CharField(_("notice text version"), max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(project__isnull=True) ^ Q(regime__isnull=True), name="notice_project_xor_regime"
            ),
            models.CheckConstraint(
                condition=~Q(status=NoticeStatus.DELIVERED) | Q(delivered_at__isnull=False),
                name="notice_delivered_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "person"], name="notice_project_person_idx"),
            models.Index(fields=["regime", "person"], name="notice_regime_person_idx"),
        ]

    def __str__(self) -> str:
        return f"Notice {self.pk} ({self.channel}, {self.status})"
