from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Receipt(models.Model):
    """The signed ISO/IEC TS 27560 consent record of one consent event."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.OneToOneField("consent.ConsentEvent", on_delete=models.PROTECT, related_name="receipt")
    payload = models.JSONField(_("record"))
    signature = models.CharField(_("Ed25519 signature (base64url)"), max_length=128)
    key_id = models.CharField(_("signing key id"), max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Receipt {self.id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("receipts are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("receipts are never deleted")


class SigningKey(models.Model):
    """The public half of a receipt-signing key, published for as long as receipts it signed exist."""

    key_id = models.CharField(_("key id"), max_length=64, unique=True)
    public_key = models.CharField(_("Ed25519 public key (base64url)"), max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(key_id="") & ~Q(public_key=""), name="signing_key_not_blank")
        ]

    def __str__(self) -> str:
        return self.key_id
