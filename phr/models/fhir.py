"""FHIR R4 endpoints at hospitals and each person's connection to one (the network side is phr/fhir/)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuthMode(models.TextChoices):
    SMART_PATIENT = "smart_patient", _("SMART on FHIR, patient-authorised")
    BACKEND_SERVICES = "backend_services", _("SMART Backend Services")
    NONE = "none", _("No authorisation")


class SigningAlg(models.TextChoices):
    RS384 = "RS384", "RS384"
    ES384 = "ES384", "ES384"


class ScopeStyle(models.TextChoices):
    V1 = "v1", _("SMART v1 scopes (patient/*.read)")
    V2 = "v2", _("SMART v2 scopes (patient/*.rs)")


class FhirEndpoint(models.Model):
    """A hospital's FHIR R4 server: where it is, how Mamori authenticates to it, what it can do."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey("phr.Organisation", on_delete=models.CASCADE, related_name="fhir_endpoints")
    name = models.CharField(_("name"), max_length=200)
    base_url = models.URLField(_("base URL"), max_length=500, unique=True)
    auth_mode = models.CharField(_("authorisation"), max_length=24, choices=AuthMode.choices)
    client_id = models.CharField(_("client id"), max_length=255, blank=True)
    # Credentials are entered once on a staff page (phr/fhir/endpoints.py), sealed with a system data key and
    # never shown again; never a path on the server (which would let whoever edits the row read any file).
    client_secret_encrypted = models.BinaryField(null=True, blank=True, editable=False)
    client_secret_set_at = models.DateTimeField(_("client secret set on"), null=True, blank=True, editable=False)
    private_key_encrypted = models.BinaryField(null=True, blank=True, editable=False)
    private_key_set_at = models.DateTimeField(_("private key set on"), null=True, blank=True, editable=False)
    key_id = models.CharField(_("key id (kid)"), max_length=255, blank=True)
    signing_alg = models.CharField(
        _("signing algorithm"), max_length=8, choices=SigningAlg.choices, default=SigningAlg.RS384
    )
    scope_style = models.CharField(_("scope style"), max_length=2, choices=ScopeStyle.choices, default=ScopeStyle.V2)
    smart_configuration = models.JSONField(default=dict, blank=True)
    capability = models.JSONField(default=dict, blank=True)
    capabilities_fetched_at = models.DateTimeField(null=True, blank=True)
    supports_everything = models.BooleanField(_("supports Patient/$everything"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ConnectionKind(models.TextChoices):
    PATIENT_AUTHORISED = "patient_authorised", _("Authorised by the person")
    HOSPITAL_AUTHORISED = "hospital_authorised", _("Authorised by the hospital")


class ConnectionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    RECONNECT_NEEDED = "reconnect_needed", _("Reconnect needed")
    REVOKED = "revoked", _("Revoked")


class Connection(models.Model):
    """A person's link to one endpoint: their patient id there and the tokens, all encrypted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey("phr.Person", on_delete=models.CASCADE, related_name="fhir_connections")
    endpoint = models.ForeignKey(FhirEndpoint, on_delete=models.CASCADE, related_name="connections")
    kind = models.CharField(_("kind"), max_length=24, choices=ConnectionKind.choices)
    status = models.CharField(
        _("status"), max_length=24, choices=ConnectionStatus.choices, default=ConnectionStatus.ACTIVE
    )
    patient_id_encrypted = models.BinaryField(null=True, blank=True)
    access_token_encrypted = models.BinaryField(null=True, blank=True)
    refresh_token_encrypted = models.BinaryField(null=True, blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    granted_scopes = models.TextField(blank=True)
    last_success_started_at = models.DateTimeField(null=True, blank=True)
    # The last successful full (non-incremental) pull: deletions at the hospital are found by full pulls.
    last_full_sync_started_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "endpoint"],
                name="connection_one_per_person_and_endpoint",
                violation_error_message=_("This person is already connected to this endpoint."),
            )
        ]

    def __str__(self) -> str:
        return f"Connection {self.id} ({self.status})"
