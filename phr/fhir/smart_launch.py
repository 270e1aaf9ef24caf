"""SMART standalone patient launch: authorization code with PKCE (S256), state bound to the session.

``begin`` stores state and verifier in the session and returns the authorize URL; ``complete`` checks the
state, exchanges the code with the verifier and stores the tokens encrypted; ``refresh`` renews the access
token, storing the rotated refresh token, or marks the connection "reconnect needed" when refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db import transaction

from phr.fhir import credentials, discovery, tokens
from phr.fhir.errors import AuthorisationFailed, FhirClientError, FhirResponseError, LaunchRefused
from phr.fhir.http import FhirHttp
from phr.fhir.scopes import patient_launch_scope
from phr.models import Connection, FhirEndpoint, Person
from phr.models.fhir import ConnectionKind, ConnectionStatus
from phr.models.parties import User
from phr.services import record_audit

SESSION_KEY = "phr.fhir.launches"
LAUNCH_MAX_AGE_SECONDS = 600
MAX_PENDING_LAUNCHES = 3


def pkce_pair() -> tuple[str, str]:
    """A code verifier (RFC 7636: 43–128 characters) and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class PendingLaunch:
    endpoint_id: str
    person_id: str
    verifier: str


def begin(session: MutableMapping[str, Any], *, endpoint: FhirEndpoint, person: Person, redirect_uri: str) -> str:
    """Start a launch for ``person`` at ``endpoint``; returns the URL to send the browser to."""
    discovery.refresh_capabilities(endpoint)
    authorize_url = discovery.authorization_endpoint(endpoint)
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(32)
    pending = dict(session.get(SESSION_KEY) or {})
    now = time.time()
    pending = {s: p for s, p in pending.items() if now - p.get("at", 0) < LAUNCH_MAX_AGE_SECONDS}
    while len(pending) >= MAX_PENDING_LAUNCHES:
        pending.pop(min(pending, key=lambda s: pending[s].get("at", 0)))
    pending[state] = {"endpoint": str(endpoint.id), "person": str(person.id), "verifier": verifier, "at": now}
    session[SESSION_KEY] = pending
    query = {
        "response_type": "code",
        "client_id": endpoint.client_id,
        "redirect_uri": redirect_uri,
        "scope": patient_launch_scope(discovery.scope_style(endpoint)),
        "state": state,
        "aud": endpoint.base_url,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    separator = "&" if "?" in authorize_url else "?"
    return f"{authorize_url}{separator}{urlencode(query)}"


def take_pending(session: MutableMapping[str, Any], state: str) -> PendingLaunch:
    """The launch this state belongs to, removed from the session so it is used once; refused otherwise."""
    pending = dict(session.get(SESSION_KEY) or {})
    match = next((s for s in pending if state and hmac.compare_digest(s, state)), None)
    if match is None:
        raise LaunchRefused("the state does not match a launch started in this session")
    launch = pending.pop(match)
    session[SESSION_KEY] = pending
    if time.time() - launch.get("at", 0) >= LAUNCH_MAX_AGE_SECONDS:
        raise LaunchRefused("the launch is too old; start again")
    verifier = launch.get("verifier")
    if not isinstance(verifier, str) or len(verifier) < 43:
        raise LaunchRefused("the launch has no PKCE code verifier")
    return PendingLaunch(endpoint_id=launch["endpoint"], person_id=launch["person"], verifier=verifier)


def _client_auth(endpoint: FhirEndpoint, form: dict[str, str]) -> dict[str, str]:
    """A confidential client (a secret entered by staff) authenticates with HTTP Basic; a public one sends its id."""
    secret = credentials.client_secret(endpoint)
    if secret:
        basic = base64.b64encode(f"{endpoint.client_id}:{secret}".encode()).decode("ascii")
        return {"Accept": "application/json", "Authorization": f"Basic {basic}"}
    form["client_id"] = endpoint.client_id
    return {"Accept": "application/json"}


def _token_request(endpoint: FhirEndpoint, form: dict[str, str]) -> dict[str, Any]:
    headers = _client_auth(endpoint, form)
    with FhirHttp(base_url=endpoint.base_url) as http:
        response = http.request(
            "POST", discovery.token_endpoint(endpoint), data=lambda: form, headers=headers, authorise=False
        )
    if response.status_code >= 400:
        raise FhirResponseError(f"the token endpoint answered {response.status_code}", status=response.status_code)
    try:
        body = response.json()
    except ValueError as exc:
        raise FhirClientError("the token endpoint's answer is not JSON") from exc
    if not isinstance(body, dict) or not body.get("access_token"):
        raise FhirClientError("the token endpoint's answer has no access token")
    return body


def complete(
    *, launch: PendingLaunch, endpoint: FhirEndpoint, person: Person, code: str, redirect_uri: str, actor: User
) -> Connection:
    """Exchange the code (with the verifier) and store the connection, active, with its tokens encrypted."""
    if not code:
        raise LaunchRefused("the authorisation server sent no code")
    body = _token_request(
        endpoint,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": launch.verifier,
        },
    )
    patient = body.get("patient")
    if not isinstance(patient, str) or not patient:
        raise LaunchRefused("the token response names no patient")
    return _store_launch(endpoint=endpoint, person=person, patient=patient, body=body, actor=actor)


@transaction.atomic
def _store_launch(
    *, endpoint: FhirEndpoint, person: Person, patient: str, body: dict[str, Any], actor: User
) -> Connection:
    connection, created = Connection.objects.select_for_update().get_or_create(
        person=person, endpoint=endpoint, defaults={"kind": ConnectionKind.PATIENT_AUTHORISED}
    )
    connection.person = person
    tokens.set_patient_id(connection, patient)
    token_fields = tokens.set_tokens(
        connection,
        access_token=str(body["access_token"]),
        refresh_token=body.get("refresh_token"),
        expires_in=body.get("expires_in", 300),
        scope=str(body.get("scope", "")),
    )
    connection.kind = ConnectionKind.PATIENT_AUTHORISED
    connection.status = ConnectionStatus.ACTIVE
    connection.save(update_fields=["patient_id_encrypted", *token_fields, "kind", "status"])
    record_audit(
        actor=actor,
        person=person,
        action="fhir.connection.authorised" if created else "fhir.connection.reauthorised",
        connection=str(connection.id),
        endpoint=str(endpoint.id),
    )
    return connection


def refresh(connection: Connection) -> str:
    """A new access token from the refresh token; the rotated refresh token replaces the old one.

    A refusal (4xx) or a missing refresh token marks the connection "reconnect needed" and raises
    AuthorisationFailed; an unreachable server raises FhirUnavailable and changes nothing.
    """
    refresh_token = tokens.unseal(connection, tokens.REFRESH_TOKEN)
    if not refresh_token:
        _needs_reconnect(connection, reason="no refresh token")
        raise AuthorisationFailed("the connection has no refresh token")
    try:
        body = _token_request(connection.endpoint, {"grant_type": "refresh_token", "refresh_token": refresh_token})
    except FhirResponseError as exc:
        if 400 <= exc.status < 500:
            _needs_reconnect(connection, reason=f"refresh refused ({exc.status})")
            raise AuthorisationFailed("the hospital refused to renew access") from exc
        raise
    with transaction.atomic():
        locked = Connection.objects.select_for_update().select_related("person").get(pk=connection.pk)
        fields = tokens.set_tokens(
            locked,
            access_token=str(body["access_token"]),
            refresh_token=body.get("refresh_token"),
            expires_in=body.get("expires_in", 300),
            scope=body.get("scope"),
        )
        locked.save(update_fields=fields)
    for field in fields:
        setattr(connection, field, getattr(locked, field))
    return str(body["access_token"])


@transaction.atomic
def _needs_reconnect(connection: Connection, *, reason: str) -> None:
    locked = Connection.objects.select_for_update().get(pk=connection.pk)
    fields = tokens.clear_tokens(locked)
    locked.status = ConnectionStatus.RECONNECT_NEEDED
    locked.save(update_fields=[*fields, "status"])
    connection.status = locked.status
    for field in fields:
        setattr(connection, field, None)
    record_audit(
        actor=None, person=locked.person, action="fhir.connection.reconnect_needed", connection=str(locked.id),
        reason=reason,
    )  # fmt: skip
