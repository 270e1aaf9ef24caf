"""Hospital API clients: registration, secret rotation, revocation and access tokens (services and lookups).

Secrets and tokens are random, shown to their owner once, and stored only hashed: secrets with Django's
password hasher (``make_password``), tokens with SHA-256 (they are long and random, and looked up by hash).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import jwt
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.models import AccessToken, ApiClient, ApiScope, UsedAssertion
from phr import roles
from phr.ids import uuid_or_404
from phr.models import Organisation, User
from phr.roles import Action
from phr.services import record_audit

MAX_JWKS_KEYS = 20
# ES384 signs with P-384; RS384 with RSA of at least 2048 bits (checked by the key's size).
_EC_CURVES = frozenset({"P-384"})
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class ApiClientError(Exception):
    """A client could not be registered or used; the message is safe to show to its administrator."""


def _authorise(actor: User | None, organisation: Organisation) -> None:
    """Staff allowed to manage this organisation's clients (phr.roles); ``actor`` None is the system itself
    (seed data, tests' fixtures), never a web request."""
    if actor is not None:
        roles.require(actor, Action.MANAGE_API_CLIENTS, organisation=organisation)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes in their canonical order; an unknown scope is an error, never silently dropped."""
    wanted = set(scopes)
    unknown = wanted - set(ApiScope.values)
    if unknown:
        raise ApiClientError(_("Unknown scope: %(scopes)s") % {"scopes": ", ".join(sorted(unknown))})
    return [scope for scope in ApiScope.values if scope in wanted]


def validate_jwks(jwks: object) -> dict[str, Any]:
    """A public JWKS of RSA (≥ 2048 bits) or EC P-384 keys, as stored; anything else is an ApiClientError."""
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise ApiClientError(_('A JWKS is a JSON object with a non-empty "keys" list.'))
    keys = jwks["keys"]
    if len(keys) > MAX_JWKS_KEYS:
        raise ApiClientError(_("A JWKS may hold at most %(count)d keys.") % {"count": MAX_JWKS_KEYS})
    for index, key in enumerate(keys, start=1):
        if not isinstance(key, Mapping):
            raise ApiClientError(_("Key %(index)d is not a JSON object.") % {"index": index})
        if _PRIVATE_MEMBERS & set(key):
            raise ApiClientError(_("Key %(index)d contains private key material.") % {"index": index})
        kty = key.get("kty")
        if kty == "EC" and key.get("crv") not in _EC_CURVES:
            raise ApiClientError(_("Key %(index)d: an EC key must be on curve P-384.") % {"index": index})
        if kty not in ("RSA", "EC"):
            raise ApiClientError(_("Key %(index)d: only RSA and EC keys are accepted.") % {"index": index})
        try:
            parsed = jwt.PyJWK(dict(key), algorithm="RS384" if kty == "RSA" else "ES384")
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError) as exc:
            raise ApiClientError(_("Key %(index)d is not a valid public key.") % {"index": index}) from exc
        if kty == "RSA" and parsed.key.key_size < 2048:
            raise ApiClientError(_("Key %(index)d: an RSA key needs at least 2048 bits.") % {"index": index})
    return {"keys": [dict(key) for key in keys]}


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def register_client(
    *,
    organisation: Organisation,
    actor: User | None,
    name: str,
    allowed_scopes: Iterable[str],
    jwks_url: str = "",
    jwks: object = None,
    with_secret: bool = False,
) -> tuple[ApiClient, str | None]:
    """Register a client of ``organisation``; returns it and its secret (if asked for), shown only this once."""
    _authorise(actor, organisation)
    name = name.strip()
    if not name:
        raise ApiClientError(_("Give the client a name."))
    stored_jwks = validate_jwks(jwks) if jwks is not None else None
    if not (jwks_url or stored_jwks or with_secret):
        raise ApiClientError(_("A client needs a JWKS (URL or inline) or a secret."))
    scopes = normalise_scopes(allowed_scopes)
    if not scopes:
        raise ApiClientError(_("Allow the client at least one scope."))
    secret = _new_secret() if with_secret else None
    client = ApiClient.objects.create(
        organisation=organisation,
        name=name,
        jwks_url=jwks_url,
        jwks=stored_jwks,
        secret_hash=make_password(secret) if secret else None,
        allowed_scopes=scopes,
        created_by=actor,
    )
    record_audit(
        actor=actor,
        person=None,
        action="api_client.registered",
        client_id=client.client_id,
        organisation=str(organisation.pk),
        scopes=scopes,
        has_secret=secret is not None,
    )
    return client, secret


@transaction.atomic
def rotate_secret(*, client: ApiClient, actor: User | None) -> str:
    """Replace the client's secret (or give it one); the new secret is returned once, the old one stops working."""
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    _authorise(actor, client.organisation)
    if client.revoked_at is not None:
        raise ApiClientError(_("A revoked client cannot be given a new secret."))
    secret = _new_secret()
    client.secret_hash = make_password(secret)
    client.rotated_at = timezone.now()
    client.save(update_fields=["secret_hash", "rotated_at"])
    record_audit(actor=actor, person=None, action="api_client.secret_rotated", client_id=client.client_id)
    return secret


@transaction.atomic
def replace_keys(*, client: ApiClient, actor: User | None, jwks_url: str = "", jwks: object = None) -> ApiClient:
    """Replace the client's public keys (JWKS URL or inline JWKS); assertions signed with the old keys then fail."""
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    _authorise(actor, client.organisation)
    if client.revoked_at is not None:
        raise ApiClientError(_("A revoked client cannot be given new keys."))
    stored_jwks = validate_jwks(jwks) if jwks is not None else None
    if not (jwks_url or stored_jwks or client.secret_hash):
        raise ApiClientError(_("A client needs a JWKS (URL or inline) or a secret."))
    client.jwks_url, client.jwks = jwks_url, stored_jwks
    client.save(update_fields=["jwks_url", "jwks"])
    record_audit(
        actor=actor, person=None, action="api_client.keys_replaced", client_id=client.client_id, jwks_url=jwks_url
    )
    return client


@transaction.atomic
def revoke_client(*, client: ApiClient, actor: User | None) -> ApiClient:
    """Revoke the client for good: no new tokens, and the tokens it holds stop working at once."""
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    _authorise(actor, client.organisation)
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
        AccessToken.objects.filter(client=client).delete()
        record_audit(actor=actor, person=None, action="api_client.revoked", client_id=client.client_id)
    return client


@transaction.atomic
def issue_token(*, client: ApiClient, scopes: Iterable[str]) -> str:
    """A new bearer token for ``client`` with ``scopes`` (each one allowed to the client); returned once."""
    granted = normalise_scopes(scopes)
    if client.revoked_at is not None:
        raise ApiClientError(_("The client is revoked."))
    if not set(granted) <= set(client.allowed_scopes):
        raise ApiClientError(_("The client is not allowed these scopes."))
    token = secrets.token_urlsafe(32)
    AccessToken.objects.create(
        token_hash=hash_token(token), client=client, organisation_id=client.organisation_id, scopes=granted
    )
    return token


def token_for(token: str) -> AccessToken | None:
    """The live token of an active client that ``token`` is, or None."""
    return (
        AccessToken.objects.select_related("client", "organisation")
        .filter(token_hash=hash_token(token), expires_at__gt=timezone.now(), client__revoked_at__isnull=True)
        .first()
    )


def client_with_secret(client_id: str, secret: str) -> ApiClient | None:
    """The active client whose secret is ``secret``; None for anything else (at about the same cost)."""
    client = active_client(client_id)
    if client is None or not client.secret_hash:
        make_password(secret)  # hash anyway, so timing does not tell which client ids exist
        return None
    return client if check_password(secret, client.secret_hash) else None


def active_client(client_id: str) -> ApiClient | None:
    return ApiClient.objects.select_related("organisation").filter(client_id=client_id, revoked_at=None).first()


def remember_assertion(*, client: ApiClient, jti: str, expires_at: datetime) -> bool:
    """Record an assertion's jti; False when the client already used it (a replay)."""
    try:
        with transaction.atomic():
            UsedAssertion.objects.create(client=client, jti=jti, expires_at=expires_at)
    except IntegrityError:
        return False
    return True


def purge_expired(*, now: datetime | None = None) -> int:
    """Delete expired tokens and the jtis of assertions that can no longer be valid; returns rows deleted."""
    now = now or timezone.now()
    # A jti is kept past its assertion's expiry by a margin, so clock leeway never lets it be replayed.
    assertions, _counts = UsedAssertion.objects.filter(expires_at__lt=now - timedelta(minutes=10)).delete()
    tokens, _counts = AccessToken.objects.filter(expires_at__lt=now).delete()
    return assertions + tokens


def administered_organisations(user: User) -> QuerySet[Organisation]:
    """The organisations whose API clients ``user`` may manage (every one, for the operator's administrators)."""
    return roles.restrict(Organisation.objects.all(), user, Action.MANAGE_API_CLIENTS)


def clients_for_admin(user: User) -> QuerySet[ApiClient]:
    """The clients of the organisations ``user`` administers, and no others."""
    return ApiClient.objects.filter(organisation__in=administered_organisations(user)).select_related("organisation")


def client_for_admin(user: User, client_pk: object) -> ApiClient:
    """Fetch and authorise: a client of an organisation ``user`` administers, else 404 (never 403)."""
    client = clients_for_admin(user).filter(pk=uuid_or_404(client_pk)).first()
    if client is None:
        raise Http404
    return client


def token_lifetime() -> int:
    return int(settings.MAMORI_API_TOKEN_SECONDS)
