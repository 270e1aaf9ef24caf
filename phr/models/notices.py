"""In-app notices to a person (and the mail that tells them): what happened to their record, never its content."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NoticeKind(models.TextChoices):
    """What a notice tells the person; each kind has its own title and body (phr.notices.texts)."""

    BREAK_GLASS = "break_glass", _("Emergency access to your record")
    EXPORT_READY = "export_ready", _("Your records download is ready")


class PersonNotice(models.Model):
    """One notice to a person: shown on their page until read, and mailed to them once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey("phr.Person", on_delete=models.CASCADE, related_name="person_notices", db_index=False)
    kind = models.CharField(max_length=32, choices=NoticeKind.choices)
    # Plain strings only (dates, labels, a site path): the text is rendered from ``kind`` in the reader's language.
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    mailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["person", "-created_at"], name="personnotice_person_idx")]

    def __str__(self) -> str:
        return f"{self.kind} notice at {self.created_at:%Y-%m-%d %H:%M}"
