"""Authentication, scopes and rate limits of the hospital API (v1). The interface other API views build on:

``ClientAPIView``
    Base class for an authenticated endpoint: ``ApiTokenAuthentication``, ``ClientRateThrottle`` and
    problem+json errors (``ProblemDetailsMixin``). Set ``permission_classes = (HasScope("consent.check"),)``.

``ApiTokenAuthentication``
    ``Authorization: Bearer <token>`` from ``POST /api/v1/oauth/token``. On success ``request.user`` is an
    :class:`ApiPrincipal` (``.organisation``, ``.client``, ``.scopes`` a frozenset, ``.is_authenticated``
    True) and ``request.auth`` is the :class:`~consent.models.AccessToken`. A missing, unknown or expired
    token, or one of a revoked client, answers 401 with ``WWW-Authenticate: Bearer``.

``HasScope(*scopes)``
    A permission class factory: every scope named must have been granted to the token, else 403 problem+json
    whose detail names the missing scope (and ``WWW-Authenticate: Bearer error="insufficient_scope"``).
    Without an API principal it answers 401.

``ClientRateThrottle``
    Per client id (per address before authentication), rate ``settings.MAMORI_API_RATE`` (e.g. "6000/min"),
    counted in the Django cache (Redis when REDIS_URL is set, else the database cache); 429 problem+json
    with ``Retry-After``.

Every object a view returns must be looked up within ``request.user.organisation`` (fetch-and-authorise
helpers), so another organisation's object is a 404. Tests get a token without a JWT through
``consent.api_clients.issue_token(client=..., scopes=[...])`` and ``register_client(...)``.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from consent.api.negotiation import JSONFirstNegotiation
from consent.api.problems import ProblemDetailsMixin
from consent.api.throttle import window_counter
from consent.api_clients import hash_token, token_for
from consent.models import AccessToken, ApiClient, ApiScope
from phr.models import Organisation


@dataclass(frozen=True)
class ApiPrincipal:
    """Who calls the API: a client of one organisation, holding the scopes of its access token."""

    client: ApiClient
    organisation: Organisation
    scopes: frozenset[str]
    is_authenticated: bool = True
    is_anonymous: bool = False
    is_staff: bool = False
    is_superuser: bool = False

    @property
    def pk(self) -> str:
        return self.client.client_id

    def __str__(self) -> str:
        return f"API client {self.client.client_id}"


class _TokenCache:
    """Tokens this process verified lately, by their hash: a hit costs no query.

    An entry is trusted for ``settings.MAMORI_API_AUTH_CACHE_SECONDS`` (default 10 s) and never past the
    token's expiry. Revoking a client or deleting a token clears the cache of the process that does it at
    once (signals below); other worker processes notice within those seconds. Bounded in size.
    """

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, ApiPrincipal, AccessToken]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> tuple[ApiPrincipal, AccessToken] | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        checked_at, principal, token = entry
        ttl = float(getattr(settings, "MAMORI_API_AUTH_CACHE_SECONDS", 10))
        if time.monotonic() - checked_at >= ttl or token.expires_at <= timezone.now():
            self._entries.pop(digest, None)
            return None
        return principal, token

    def put(self, digest: str, principal: ApiPrincipal, token: AccessToken) -> None:
        with self._lock:
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries.clear()
            self._entries[digest] = (time.monotonic(), principal, token)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


token_cache = _TokenCache()


@receiver(post_delete, sender=AccessToken)
@receiver(post_save, sender=ApiClient)
@receiver(post_delete, sender=ApiClient)
def _credentials_changed(sender: Any, **kwargs: Any) -> None:
    token_cache.clear()


class ApiTokenAuthentication(TokenAuthentication):
    """Bearer access tokens issued by the token endpoint, looked up by their SHA-256 hash."""

    keyword = "Bearer"

    def authenticate_credentials(self, key: str) -> tuple[ApiPrincipal, AccessToken]:
        digest = hash_token(key)
        cached = token_cache.get(digest)
        if cached is not None:
            return cached
        token = token_for(key)
        if token is None:
            raise AuthenticationFailed("The access token is invalid or has expired.")
        principal = ApiPrincipal(client=token.client, organisation=token.organisation, scopes=frozenset(token.scopes))
        token_cache.put(digest, principal, token)
        return principal, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="mamori"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme: OAuth 2.0 client credentials, so /api/docs/ can get a token itself."""

    target_class = ApiTokenAuthentication
    name = "clientCredentials"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "oauth2",
            "description": "SMART Backend Services: a signed client assertion (RS384/ES384) or HTTP Basic secret.",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": "/api/v1/oauth/token",
                    "scopes": {scope.value: str(scope.label) for scope in ApiScope},
                }
            },
        }


class InsufficientScope(PermissionDenied):
    def __init__(self, scope: str) -> None:
        super().__init__(f"The access token does not carry the scope {scope}.")
        self.auth_header = f'Bearer realm="mamori", error="insufficient_scope", scope="{scope}"'


def HasScope(*scopes: str) -> type[BasePermission]:
    """A permission class requiring every one of ``scopes`` on the caller's access token."""
    if not scopes:
        raise ValueError("HasScope needs at least one scope")

    class _HasScope(BasePermission):
        def has_permission(self, request: Request, view: Any) -> bool:
            principal = request.user
            if not isinstance(principal, ApiPrincipal):
                return False
            for scope in scopes:
                if scope not in principal.scopes:
                    raise InsufficientScope(scope)
            return True

    _HasScope.__name__ = _HasScope.__qualname__ = f"HasScope({', '.join(scopes)})"
    return _HasScope


class ClientRateThrottle(SimpleRateThrottle):
    """Requests per client id (or per address when unauthenticated) in fixed windows, counted in the cache.

    One integer per client and window, shared by every worker (Redis, else the database cache), which each
    process adds its own count to in batches (:mod:`consent.api.throttle`: within about half a percent of
    the limit, exact near it). Unlike DRF's default history list, the cost does not grow with the rate.
    """

    scope = "api_client"
    num_requests: int
    duration: int

    def get_rate(self) -> str:
        return str(settings.MAMORI_API_RATE)

    def get_cache_key(self, request: Request, view: Any) -> str:
        principal = request.user
        if isinstance(principal, ApiPrincipal):
            return f"mamori:throttle:client:{principal.client.client_id}"
        return f"mamori:throttle:addr:{self.get_ident(request)}"

    def allow_request(self, request: Request, view: Any) -> bool:
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends_at = (window + 1) * self.duration
        return self._count(f"{self.get_cache_key(request, view)}:{window}") <= self.num_requests

    def _count(self, key: str) -> int:
        return window_counter.count(key, self.num_requests, timeout=self.duration + 1)

    def wait(self) -> float:
        return max(1.0, math.ceil(self.window_ends_at - self.now))


class ClientAPIView(ProblemDetailsMixin, APIView):
    """Base of the endpoints a client calls with its access token."""

    authentication_classes = (ApiTokenAuthentication,)
    throttle_classes = (ClientRateThrottle,)
    renderer_classes = (JSONRenderer,)
    content_negotiation_class = JSONFirstNegotiation
