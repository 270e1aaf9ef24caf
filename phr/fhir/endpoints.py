"""Writes to FHIR endpoints: create, edit, enter credentials. Each authorises its caller and is audited.

A base URL is held to the outbound policy (``phr.outbound``) before it is stored, so an address Mamori would
refuse to fetch is an error in the form, not a failed sync later. Credentials (a client secret, a private key
for signed assertions) are entered once, sealed (``phr.fhir.credentials``) and never shown again; moving an
endpoint to another origin drops them, so a stored secret cannot be redirected to a server of one's choosing.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from phr import outbound, roles
from phr.errors import PartyError
from phr.fhir import backend_services, credentials
from phr.models import FhirEndpoint, Organisation, User
from phr.models.fhir import AuthMode, ScopeStyle, SigningAlg
from phr.models.parties import OrganisationKind
from phr.services import record_audit

EDITABLE_FIELDS = ("name", "base_url", "auth_mode", "client_id", "key_id", "signing_alg", "scope_style")
CREDENTIAL_FIELDS = ("client_secret_encrypted", "client_secret_set_at", "private_key_encrypted", "private_key_set_at")
CAPABILITY_FIELDS = ("smart_configuration", "capability", "capabilities_fetched_at", "supports_everything")
MAX_SECRET_LENGTH = 1000
MAX_PRIVATE_KEY_LENGTH = 20_000


class EndpointRefused(PartyError):
    """An endpoint write was refused; the message is safe to show, ``field`` names the form field at fault."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.code = code


def _authorise(actor: User | None, organisation: Organisation) -> None:
    # None is the system itself (seed_demo, management commands); a person acting is held to the role policy.
    if actor is not None:
        roles.require(actor, roles.Action.MANAGE_ENDPOINTS, organisation=organisation)


def checked_base_url(base_url: str) -> str:
    """The base URL without a trailing slash, or EndpointRefused when the outbound policy would refuse it."""
    url = base_url.strip().rstrip("/")
    try:
        outbound.check_destination(url)
    except outbound.OutboundRefused as exc:
        raise EndpointRefused(str(exc), field="base_url", code=exc.code) from exc
    if "?" in url or "#" in url:
        raise EndpointRefused(_("A base URL has no query or fragment."), field="base_url", code="query")
    return url


def _check_hospital(organisation: Organisation) -> None:
    if organisation.kind != OrganisationKind.HOSPITAL:
        raise EndpointRefused(_("Only a hospital has FHIR endpoints."), field="organisation")


def _save_new(endpoint: FhirEndpoint) -> None:
    try:
        with transaction.atomic():
            endpoint.save(force_insert=True)
    except IntegrityError as exc:
        raise EndpointRefused(_("Another endpoint already has this base URL."), field="base_url") from exc


@transaction.atomic
def create_endpoint(
    *,
    actor: User | None,
    organisation: Organisation,
    name: str,
    base_url: str,
    auth_mode: str,
    client_id: str = "",
    key_id: str = "",
    signing_alg: str = SigningAlg.RS384,
    scope_style: str = ScopeStyle.V2,
) -> FhirEndpoint:
    """A hospital's FHIR server, with no credentials yet (``set_endpoint_secret`` enters them)."""
    _authorise(actor, organisation)
    _check_hospital(organisation)
    endpoint = FhirEndpoint(
        organisation=organisation,
        name=name.strip(),
        base_url=checked_base_url(base_url),
        auth_mode=AuthMode(auth_mode),
        client_id=client_id.strip(),
        key_id=key_id.strip(),
        signing_alg=SigningAlg(signing_alg),
        scope_style=ScopeStyle(scope_style),
    )
    _save_new(endpoint)
    record_audit(
        actor=actor,
        person=None,
        action="fhir.endpoint.created",
        endpoint=str(endpoint.id),
        organisation=str(organisation.id),
        base_url=endpoint.base_url,
        auth_mode=endpoint.auth_mode,
    )
    return endpoint


@transaction.atomic
def update_endpoint(
    *,
    actor: User | None,
    endpoint: FhirEndpoint,
    name: str,
    base_url: str,
    auth_mode: str,
    client_id: str,
    key_id: str,
    signing_alg: str,
    scope_style: str,
) -> FhirEndpoint:
    """Change an endpoint. A new origin drops its credentials and what was learnt about the old server."""
    _authorise(actor, endpoint.organisation)
    checked = checked_base_url(base_url)  # resolves the name: before the row is locked
    locked = FhirEndpoint.objects.select_for_update().select_related("organisation").get(pk=endpoint.pk)
    wanted = {
        "name": name.strip(),
        "base_url": checked,
        "auth_mode": AuthMode(auth_mode),
        "client_id": client_id.strip(),
        "key_id": key_id.strip(),
        "signing_alg": SigningAlg(signing_alg),
        "scope_style": ScopeStyle(scope_style),
    }
    changed = [field for field in EDITABLE_FIELDS if getattr(locked, field) != wanted[field]]
    if not changed:
        return locked
    moved = outbound.origin_of(wanted["base_url"]) != outbound.origin_of(locked.base_url)
    if "signing_alg" in changed and locked.private_key_encrypted and not moved:
        try:
            credentials.parse_private_key(credentials.private_key_pem(locked) or b"", wanted["signing_alg"])
        except ValueError as exc:
            raise EndpointRefused(
                _("The stored private key does not fit this algorithm; enter a new key first."), field="signing_alg"
            ) from exc
    for field in changed:
        setattr(locked, field, wanted[field])
    fields = list(changed)
    if "base_url" in changed:
        locked.smart_configuration, locked.capability = {}, {}
        locked.capabilities_fetched_at, locked.supports_everything = None, False
        fields.extend(CAPABILITY_FIELDS)
    if moved:
        for field in CREDENTIAL_FIELDS:
            setattr(locked, field, None)
        fields.extend(CREDENTIAL_FIELDS)
    try:
        with transaction.atomic():
            locked.save(update_fields=fields)
    except IntegrityError as exc:
        raise EndpointRefused(_("Another endpoint already has this base URL."), field="base_url") from exc
    record_audit(
        actor=actor,
        person=None,
        action="fhir.endpoint.updated",
        endpoint=str(locked.id),
        changed=changed,
        base_url=locked.base_url,
        credentials_dropped=moved,
    )
    endpoint_id = locked.id
    transaction.on_commit(lambda: backend_services.forget_tokens(endpoint_id))
    return locked


@transaction.atomic
def set_endpoint_secret(
    *,
    actor: User | None,
    endpoint: FhirEndpoint,
    client_secret: str | None = None,
    private_key_pem: str | None = None,
) -> FhirEndpoint:
    """Enter a client secret (HTTP Basic) and/or a private key (signed assertions), sealed; the old ones go.

    Nothing entered here is ever shown again: pages show only when each was set.
    """
    locked = FhirEndpoint.objects.select_for_update().select_related("organisation").get(pk=endpoint.pk)
    _authorise(actor, locked.organisation)
    if not client_secret and not private_key_pem:
        raise EndpointRefused(_("Enter a client secret or a private key."))
    now = timezone.now()
    fields: list[str] = []
    entered: list[str] = []
    if client_secret:
        if len(client_secret) > MAX_SECRET_LENGTH or client_secret != client_secret.strip():
            raise EndpointRefused(
                _("A client secret has at most %(n)d characters and no surrounding spaces.") % {"n": MAX_SECRET_LENGTH},
                field="client_secret",
            )
        locked.client_secret_encrypted = credentials.seal(
            locked, credentials.CLIENT_SECRET, client_secret.encode("utf-8")
        )
        locked.client_secret_set_at = now
        fields += ["client_secret_encrypted", "client_secret_set_at"]
        entered.append(credentials.CLIENT_SECRET)
    if private_key_pem:
        pem = private_key_pem.strip().encode("utf-8")
        if len(pem) > MAX_PRIVATE_KEY_LENGTH:
            raise EndpointRefused(_("This private key is too long."), field="private_key")
        try:
            credentials.parse_private_key(pem, locked.signing_alg)
        except ValueError as exc:
            raise EndpointRefused(str(exc), field="private_key") from exc
        locked.private_key_encrypted = credentials.seal(locked, credentials.PRIVATE_KEY, pem)
        locked.private_key_set_at = now
        fields += ["private_key_encrypted", "private_key_set_at"]
        entered.append(credentials.PRIVATE_KEY)
    locked.save(update_fields=fields)
    record_audit(
        actor=actor, person=None, action="fhir.endpoint.credentials_set", endpoint=str(locked.id), entered=entered
    )
    endpoint_id = locked.id
    transaction.on_commit(lambda: backend_services.forget_tokens(endpoint_id))
    return locked
