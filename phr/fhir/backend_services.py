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
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from phr.fhir import discovery
from phr.fhir.errors import AuthorisationFailed, FhirClientError
from phr.fhir.http import FhirHttp
from phr.fhir.scopes import system_scope
from phr.models import FhirEndpoint
from phr.models.fhir import SigningAlg

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME_SECONDS = 240
RENEW_BEFORE_SECONDS = 60


def load_signing_key(path: str, alg: str) -> Any:
    """The private key in ``path`` (PEM, unencrypted), checked against the algorithm it must sign with."""
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise AuthorisationFailed("the endpoint's private key file cannot be read") from exc
    if alg == SigningAlg.RS384 and not isinstance(key, rsa.RSAPrivateKey):
        raise AuthorisationFailed("RS384 needs an RSA private key")
    if alg == SigningAlg.ES384 and not (
        isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP384R1)
    ):
        raise AuthorisationFailed("ES384 needs a P-384 elliptic-curve private key")
    return key


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


def read_secret_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise AuthorisationFailed("the endpoint's client secret file cannot be read") from exc


@dataclass(frozen=True)
class _Cached:
    token: str
    expires_at: float


_cache: dict[uuid.UUID, _Cached] = {}
_lock = threading.Lock()


def forget_tokens() -> None:
    with _lock:
        _cache.clear()


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
    if endpoint.private_key_file:
        key = load_signing_key(endpoint.private_key_file, endpoint.signing_alg)

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
    elif endpoint.client_secret_file:
        secret = read_secret_file(endpoint.client_secret_file)
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
