"""OAuth 2.0 for hospital systems (SMART Backend Services): the token endpoint and its discovery document.

Errors of the token endpoint use the OAuth error shape of RFC 6749 §5.2 (``{"error": "invalid_client",
"error_description": ...}``) rather than problem+json, because OAuth client libraries read that shape; a
client that fails to authenticate gets 401 ``invalid_client`` (a replayed or expired assertion included),
a request it may not make gets 400. Limits (413, 415, 429) stay problem+json like the rest of the API.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consent.api.assertions import ALGORITHMS, ASSERTION_TYPE, AssertionRefused, token_url, verify_assertion
from consent.api.auth import ClientRateThrottle
from consent.api.problems import ProblemDetailsMixin
from consent.api_clients import ApiClientError, client_with_secret, issue_token, normalise_scopes, token_lifetime
from consent.models import ApiClient, ApiScope

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

_OAuthError = inline_serializer(
    "OAuthError", {"error": serializers.CharField(), "error_description": serializers.CharField()}
)
_TokenResponse = inline_serializer(
    "TokenResponse",
    {
        "access_token": serializers.CharField(),
        "token_type": serializers.CharField(),
        "expires_in": serializers.IntegerField(),
        "scope": serializers.CharField(),
    },
)


def oauth_error(error: str, description: str, *, status: int = 400, basic_challenge: bool = False) -> Response:
    headers = dict(_NO_STORE)
    if basic_challenge:
        headers["WWW-Authenticate"] = 'Basic realm="mamori"'
    return Response({"error": error, "error_description": description}, status=status, headers=headers)


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """The client id and secret of an ``Authorization: Basic`` header (form-urlencoded, RFC 6749 §2.3.1)."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    return unquote(client_id), unquote(secret)


class TokenView(ProblemDetailsMixin, APIView):
    """``POST /api/v1/oauth/token``: a short-lived access token for a client of one organisation."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    parser_classes = (FormParser,)
    renderer_classes = (JSONRenderer,)
    throttle_classes = (ClientRateThrottle,)

    @extend_schema(
        operation_id="oauth_token",
        summary="Get an access token (client credentials)",
        description="SMART Backend Services: `grant_type=client_credentials` with a `client_assertion` (JWT signed "
        "RS384 or ES384 with a key of the client's JWKS; iss = sub = client id, aud = this URL, exp at most five "
        "minutes ahead, a jti never used before) or HTTP Basic with the client secret. `scope` (space-separated) "
        "narrows the client's allowed scopes; without it every allowed scope is granted.",
        tags=["oauth"],
        auth=[],
        request={
            "application/x-www-form-urlencoded": inline_serializer(
                "TokenRequest",
                {
                    "grant_type": serializers.CharField(),
                    "scope": serializers.CharField(required=False),
                    "client_assertion_type": serializers.CharField(required=False),
                    "client_assertion": serializers.CharField(required=False),
                },
            )
        },
        responses={
            200: _TokenResponse,
            400: OpenApiResponse(_OAuthError, description="invalid_request, unsupported_grant_type, invalid_scope"),
            401: OpenApiResponse(_OAuthError, description="invalid_client"),
        },
    )
    def post(self, request: Request) -> Response:
        data = request.data
        if data.get("grant_type") != "client_credentials":
            return oauth_error("unsupported_grant_type", "Only grant_type=client_credentials is supported.")
        assertion = data.get("client_assertion")
        if assertion or data.get("client_assertion_type"):
            if data.get("client_assertion_type") != ASSERTION_TYPE or not assertion:
                return oauth_error("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}.")
            try:
                client = verify_assertion(str(assertion))
            except AssertionRefused as refused:
                return oauth_error("invalid_client", str(refused), status=401)
            if data.get("client_id") not in (None, client.client_id):
                return oauth_error("invalid_client", "client_id differs from the assertion's iss.", status=401)
        else:
            credentials = basic_credentials(request)
            found = client_with_secret(*credentials) if credentials else None
            if found is None:
                return oauth_error(
                    "invalid_client",
                    "Authenticate with a client assertion or HTTP Basic.",
                    status=401,
                    basic_challenge=True,
                )
            client = found
        return self._grant(client, str(data.get("scope", "")))

    def _grant(self, client: ApiClient, scope: str) -> Response:
        requested = scope.split()
        try:
            scopes = normalise_scopes(requested) if requested else list(client.allowed_scopes)
        except ApiClientError:
            return oauth_error("invalid_scope", "Unknown scope requested.")
        if not set(scopes) <= set(client.allowed_scopes):
            return oauth_error("invalid_scope", "The client is not allowed every scope requested.")
        token = issue_token(client=client, scopes=scopes)
        body = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": token_lifetime(),
            "scope": " ".join(scopes),
        }
        return Response(body, headers=_NO_STORE)


class SmartConfigurationView(ProblemDetailsMixin, APIView):
    """``GET /.well-known/smart-configuration``: where and how a hospital system gets a token."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    renderer_classes = (JSONRenderer,)

    @extend_schema(
        operation_id="smart_configuration",
        summary="SMART configuration",
        tags=["oauth"],
        auth=[],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="SMART Backend Services metadata")},
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                "token_endpoint": token_url(),
                "grant_types_supported": ["client_credentials"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
                "token_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
                "scopes_supported": list(ApiScope.values),
                "capabilities": ["client-confidential-asymmetric", "client-confidential-symmetric"],
            }
        )
