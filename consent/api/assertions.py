"""SMART Backend Services client assertions: a JWT signed with a key of the client's registered JWKS.

Accepted only with RS384 or ES384, iss = sub = the client id, aud = the token URL, an exp at most five
minutes ahead, and a jti the client never used before. Keys come from the inline JWKS or from the JWKS URL,
fetched with a timeout from a public address only (:mod:`consent.api.jwks_fetch`) and cached for five
minutes (fetched again once when the kid is unknown).
"""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from consent.api.jwks_fetch import UnsafeJwksUrl, get_jwks_document
from consent.api_clients import ApiClientError, active_client, remember_assertion, validate_jwks
from consent.models import ApiClient
from phr import json_limits

logger = logging.getLogger(__name__)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("RS384", "ES384")
MAX_LIFETIME_SECONDS = 300
LEEWAY_SECONDS = 30
JWKS_CACHE_SECONDS = 300


class AssertionRefused(Exception):
    """The assertion does not authenticate a client; the message is safe to return as error_description."""


def token_url() -> str:
    """The absolute token URL: the only ``aud`` an assertion may carry."""
    return settings.MAMORI_BASE_URL.rstrip("/") + reverse("consent_api:oauth-token")


def _jwks_cache_key(client: ApiClient) -> str:
    return f"mamori:jwks:{client.pk}"


def fetch_jwks(client: ApiClient, *, refresh: bool = False) -> dict[str, Any]:
    """The client's keys from its JWKS URL, cached; refused (never raised as a 500) when unreachable or invalid."""
    key = _jwks_cache_key(client)
    if not refresh:
        cached = cache.get(key)
        if cached is not None:
            return dict(cached)
    try:
        jwks = validate_jwks(json_limits.loads(get_jwks_document(client.jwks_url)))
    except UnsafeJwksUrl as exc:
        logger.warning("JWKS URL of API client %s refused: %s", client.client_id, exc)
        raise AssertionRefused(f"{exc}") from exc
    except (httpx.HTTPError, ValueError, ApiClientError) as exc:
        logger.warning("JWKS of API client %s could not be used: %s", client.client_id, type(exc).__name__)
        raise AssertionRefused("The client's JWKS URL did not return a usable JWKS.") from exc
    cache.set(key, jwks, JWKS_CACHE_SECONDS)
    return jwks


def _keys(client: ApiClient, kid: str | None, alg: str, *, refresh: bool = False) -> list[jwt.PyJWK]:
    jwks: dict[str, Any] = {"keys": []}
    if client.jwks:
        jwks = client.jwks
    elif client.jwks_url:
        jwks = fetch_jwks(client, refresh=refresh)
    wanted_kty = "RSA" if alg == "RS384" else "EC"
    keys = []
    for member in jwks.get("keys", []):
        if member.get("kty") != wanted_kty or (kid is not None and member.get("kid") != kid):
            continue
        if member.get("alg") not in (None, alg):
            continue
        try:
            keys.append(jwt.PyJWK(member, algorithm=alg))
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            continue
    return keys


def _candidate_keys(client: ApiClient, kid: str | None, alg: str) -> list[jwt.PyJWK]:
    keys = _keys(client, kid, alg)
    if not keys and client.jwks_url and not client.jwks:
        keys = _keys(client, kid, alg, refresh=True)  # the client may have rotated its keys
    if not keys:
        raise AssertionRefused("No key of the client's JWKS matches the assertion's kid and alg.")
    return keys


def _check_nesting(assertion: str) -> None:
    """Refuse a header or claims set nested past MAMORI_JSON_MAX_DEPTH before PyJWT's ``json.loads`` recurses."""
    for segment in assertion.split(".")[:2]:
        try:
            decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        except (binascii.Error, ValueError):
            return  # not base64url: PyJWT refuses it as malformed
        try:
            json_limits.check_depth(decoded)
        except json_limits.TooDeep as exc:
            raise AssertionRefused(f"The client assertion is not a well-formed JWT: {exc}") from exc


def verify_assertion(assertion: str) -> ApiClient:
    """The client the assertion authenticates; its jti is recorded so it is never accepted again."""
    _check_nesting(assertion)
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise AssertionRefused("The client assertion is not a well-formed JWT.") from exc
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise AssertionRefused("The client assertion must be signed with RS384 or ES384.")
    client_id = unverified.get("iss")
    if not isinstance(client_id, str) or unverified.get("sub") != client_id:
        raise AssertionRefused("The client assertion needs iss and sub equal to the client id.")
    client = active_client(client_id)
    if client is None:
        raise AssertionRefused("Unknown or revoked client.")
    kid = header.get("kid")
    claims: dict[str, Any] | None = None
    for key in _candidate_keys(client, kid if isinstance(kid, str) else None, alg):
        try:
            claims = jwt.decode(
                assertion,
                key.key,
                algorithms=[alg],
                audience=token_url(),
                issuer=client_id,
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "sub", "aud", "exp", "jti"]},
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.ExpiredSignatureError as exc:
            raise AssertionRefused("The client assertion has expired.") from exc
        except jwt.InvalidAudienceError as exc:
            raise AssertionRefused(f"The client assertion's aud must be {token_url()}.") from exc
        except jwt.PyJWTError as exc:
            raise AssertionRefused(f"The client assertion is invalid: {exc}.") from exc
        break
    if claims is None:
        raise AssertionRefused("The client assertion's signature does not verify with the client's keys.")
    now = datetime.now(UTC).timestamp()
    exp = claims["exp"]
    if exp > now + MAX_LIFETIME_SECONDS + LEEWAY_SECONDS:
        raise AssertionRefused("The client assertion's exp is more than five minutes ahead.")
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti or len(jti) > 255:
        raise AssertionRefused("The client assertion needs a jti of at most 255 characters.")
    if not remember_assertion(client=client, jti=jti, expires_at=datetime.fromtimestamp(exp, UTC)):
        raise AssertionRefused("This client assertion was used before (its jti was seen).")
    return client
