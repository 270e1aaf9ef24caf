"""SMART Backend Services: a system access token for a signed JWT client assertion (RS384 or ES384).

The assertion has iss = sub = client id, aud = the token URL, a unique jti and an expiry within five minutes.
Tokens are kept in this process only, until shortly before they expire.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from phr.fhir import credentials, discovery
from phr.fhir.errors import AuthorisationFailed, FhirClientError
from phr.fhir.http import FhirHttp
from phr.fhir.scopes import system_scope
from phr.models import FhirEndpoint

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME_SECONDS = 240
RENEW_BEFORE_SECONDS = 60


def client_assertion(*, client_id: str, token_url: str, key: Any, alg: str, kid: str = "") -> str:
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": token_url,
        "jti": secrets.token_urlsafe(24),
        "iat": now,
        "exp": now + ASSERTION_LIFETIME_SECONDS,
    }
    headers = {"typ": "JWT", **({"kid": kid} if kid else {})}
    return jwt.encode(claims, key, algorithm=alg, headers=headers)


@dataclass(frozen=True)
class _Cached:
    token: str
    expires_at: float


_cache: dict[uuid.UUID, _Cached] = {}
_lock = threading.Lock()


def forget_tokens(endpoint_id: uuid.UUID | None = None) -> None:
    """Drop cached system tokens: one endpoint's (its address or credentials changed), or all."""
    with _lock:
        if endpoint_id is None:
            _cache.clear()
        else:
            _cache.pop(endpoint_id, None)


def system_token(endpoint: FhirEndpoint, *, http: FhirHttp, renew: bool = False) -> str:
    """A valid system token for ``endpoint``, from the cache or the token endpoint."""
    with _lock:
        cached = _cache.get(endpoint.id)
    if cached is not None and not renew and cached.expires_at - RENEW_BEFORE_SECONDS > time.time():
        return cached.token
    token, lifetime = _request_token(endpoint, http=http)
    with _lock:
        _cache[endpoint.id] = _Cached(token, time.time() + lifetime)
    return token


def _request_token(endpoint: FhirEndpoint, *, http: FhirHttp) -> tuple[str, int]:
    token_url = discovery.token_endpoint(endpoint)
    scope = system_scope(discovery.scope_style(endpoint))
    headers = {"Accept": "application/json"}
    key = credentials.signing_key(endpoint)
    secret = credentials.client_secret(endpoint) if key is None else None
    if key is not None:

        def form() -> dict[str, str]:
            assertion = client_assertion(
                client_id=endpoint.client_id, token_url=token_url, key=key, alg=endpoint.signing_alg,
                kid=endpoint.key_id,
            )  # fmt: skip
            return {
                "grant_type": "client_credentials",
                "scope": scope,
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion,
            }

        response = http.request("POST", token_url, data=form, headers=headers, authorise=False)
    elif secret:
        basic = base64.b64encode(f"{endpoint.client_id}:{secret}".encode()).decode("ascii")
        response = http.request(
            "POST",
            token_url,
            data=lambda: {"grant_type": "client_credentials", "scope": scope},
            headers={**headers, "Authorization": f"Basic {basic}"},
            authorise=False,
        )
    else:
        raise AuthorisationFailed("the endpoint has neither a private key nor a client secret")
    if response.status_code >= 400:
        raise AuthorisationFailed(f"the token endpoint refused the client ({response.status_code})")
    try:
        body = response.json()
        token = str(body["access_token"])
        lifetime = int(body.get("expires_in", 300))
    except (ValueError, KeyError, TypeError) as exc:
        raise FhirClientError("the token endpoint's answer has no access token") from exc
    return token, lifetime
