"""Hospital API clients (SMART Backend Services), their access tokens and the assertions already used."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_client_id() -> str:
    """A random, URL-safe client id: nothing in it names the organisation."""
    return "mamori-" + secrets.token_urlsafe(18)


def default_token_expiry() -> datetime:
    return timezone.now() + timedelta(seconds=settings.MAMORI_API_TOKEN_SECONDS)


class ApiScope(models.TextChoices):
    CONSENT_CHECK = "consent.check", _("Check decisions")
    CONSENT_BULK = "consent.bulk", _("Bulk checks")
    CONSENT_CHANGES = "consent.changes", _("Consent changes feed")
    RELEASE_WRITE = "release.write", _("Record releases")
    FHIR_CONSENT_READ = "system/Consent.rs", _("Read FHIR Consent resources")


class ApiClient(models.Model):
    """A system of one organisation that calls the hospital API with its own keys or secret."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey("phr.Organisation", on_delete=models.CASCADE, related_name="api_clients")
    name = models.CharField(_("name"), max_length=200)
    client_id = models.CharField(_("client id"), max_length=64, unique=True, default=new_client_id, editable=False)
    jwks_url = models.URLField(_("JWKS URL"), max_length=500, blank=True)
    jwks = models.JSONField(_("JWKS"), null=True, blank=True)
    secret_hash = models.CharField(_("client secret (hashed)"), max_length=256, null=True, blank=True)
    allowed_scopes = models.JSONField(_("allowed scopes"), default=list)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(_("secret rotated at"), null=True, blank=True)

    class Meta:
        ordering = ["organisation", "name", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(jwks_url="") | Q(jwks__isnull=False) | Q(secret_hash__isnull=False),
                name="api_client_has_a_credential",
                violation_error_message=_("A client needs a JWKS (URL or inline) or a secret."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AccessToken(models.Model):
    """A short-lived bearer token issued to a client; only its SHA-256 hash is stored."""

    token_hash = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="tokens")
    organisation = models.ForeignKey("phr.Organisation", on_delete=models.CASCADE, related_name="+")
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField(default=default_token_expiry)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="access_token_expiry")]

    def __str__(self) -> str:
        return f"AccessToken {self.pk} of {self.client_id}"


class UsedAssertion(models.Model):
    """The jti of a client assertion already accepted: it is never accepted again while it could be valid."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="used_assertions")
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "jti"], name="used_assertion_unique_jti")]
        indexes = [models.Index(fields=["expires_at"], name="used_assertion_expiry")]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.jti}"
