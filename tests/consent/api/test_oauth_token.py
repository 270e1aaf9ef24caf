"""POST /api/v1/oauth/token and the SMART discovery document."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from django.test import Client

from consent.api_clients import register_client
from consent.models import AccessToken, ApiClient, UsedAssertion
from phr.models import Organisation
from tests.consent.api.client_keys import assertion, assertion_form, ec_key, jwks, rsa_key
from tests.consent.api.jwks_server import JwksServer, jwks_server

URL = "/api/v1/oauth/token"
FORM = "application/x-www-form-urlencoded"


__all__ = ["jwks_server"]


@pytest.fixture
def ehr(hospital: Organisation) -> ApiClient:
    client, _ = register_client(
        organisation=hospital,
        actor=None,
        name="Electronic health record",
        allowed_scopes=["consent.check", "consent.bulk"],
        jwks=jwks((rsa_key(), "rsa-1"), (ec_key(), "ec-1")),
    )
    return client


def post_form(client: Client, data: dict[str, str], **headers: str) -> Any:
    from urllib.parse import urlencode

    return client.post(URL, data=urlencode(data), content_type=FORM, headers=headers)


def assert_refused(response: Any, error: str = "invalid_client", status: int = 401) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == error, body
    assert response["Cache-Control"] == "no-store"
    return str(body["error_description"])


def test_it_issues_a_token_for_an_rs384_assertion(client: Client, ehr: ApiClient) -> None:
    response = post_form(client, assertion_form(assertion(ehr)))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300
    assert body["scope"] == "consent.check consent.bulk"
    assert response["Cache-Control"] == "no-store"
    stored = AccessToken.objects.get()
    assert stored.organisation == ehr.organisation and stored.client == ehr
    assert body["access_token"] not in stored.token_hash


def test_it_issues_a_token_for_an_es384_assertion(client: Client, ehr: ApiClient) -> None:
    response = post_form(client, assertion_form(assertion(ehr, alg="ES384", kid="ec-1")))
    assert response.status_code == 200, response.content


def test_it_accepts_an_assertion_without_kid_when_a_key_verifies(client: Client, ehr: ApiClient) -> None:
    response = post_form(client, assertion_form(assertion(ehr, kid=None)))
    assert response.status_code == 200, response.content


def test_it_refuses_a_replayed_assertion(client: Client, ehr: ApiClient) -> None:
    signed = assertion(ehr)
    assert post_form(client, assertion_form(signed)).status_code == 200

    description = assert_refused(post_form(client, assertion_form(signed)))

    assert "used before" in description
    assert AccessToken.objects.count() == 1 and UsedAssertion.objects.count() == 1


def test_it_refuses_a_wrong_audience(client: Client, ehr: ApiClient) -> None:
    signed = assertion(ehr, aud="https://elsewhere.example/token")
    assert "aud" in assert_refused(post_form(client, assertion_form(signed)))


def test_it_refuses_an_expiry_more_than_five_minutes_ahead(client: Client, ehr: ApiClient) -> None:
    signed = assertion(ehr, lifetime=600)
    assert "five minutes" in assert_refused(post_form(client, assertion_form(signed)))


def test_it_refuses_an_expired_assertion(client: Client, ehr: ApiClient) -> None:
    signed = assertion(ehr, exp=int(time.time()) - 120)
    assert "expired" in assert_refused(post_form(client, assertion_form(signed)))


def test_it_refuses_an_assertion_without_exp_or_jti(client: Client, ehr: ApiClient) -> None:
    assert_refused(post_form(client, assertion_form(assertion(ehr, exp=None))))
    assert_refused(post_form(client, assertion_form(assertion(ehr, jti=None))))


def test_it_refuses_an_unknown_kid(client: Client, ehr: ApiClient) -> None:
    signed = assertion(ehr, kid="someone-else")
    assert "kid" in assert_refused(post_form(client, assertion_form(signed)))


def test_it_refuses_a_key_not_in_the_jwks(client: Client, ehr: ApiClient) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert "signature" in assert_refused(post_form(client, assertion_form(assertion(ehr, key=stranger))))


@pytest.mark.parametrize("alg", ["HS256", "none", "RS256"])
def test_it_refuses_other_algorithms(client: Client, ehr: ApiClient, alg: str) -> None:
    now = int(time.time())
    claims = {"iss": ehr.client_id, "sub": ehr.client_id, "aud": "x", "jti": "j", "exp": now + 60}
    if alg == "HS256":
        signed = jwt.encode(claims, "a-shared-secret-of-enough-length-0123456789", algorithm="HS256")
    elif alg == "RS256":
        signed = jwt.encode(claims, rsa_key(), algorithm="RS256", headers={"kid": "rsa-1"})
    else:
        header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        signed = f"{header}.{payload}."
    assert "RS384 or ES384" in assert_refused(post_form(client, assertion_form(signed)))


def test_it_refuses_iss_different_from_sub(client: Client, ehr: ApiClient) -> None:
    assert_refused(post_form(client, assertion_form(assertion(ehr, sub="another"))))


def test_it_refuses_a_revoked_client(client: Client, ehr: ApiClient) -> None:
    from consent.api_clients import revoke_client

    revoke_client(client=ehr, actor=None)
    assert_refused(post_form(client, assertion_form(assertion(ehr))))


def test_it_refuses_another_grant_type(client: Client, ehr: ApiClient) -> None:
    form = {**assertion_form(assertion(ehr)), "grant_type": "password"}
    assert_refused(post_form(client, form), "unsupported_grant_type", 400)


def test_it_refuses_a_request_without_client_authentication(client: Client, db: None) -> None:
    response = post_form(client, {"grant_type": "client_credentials"})
    assert_refused(response)
    assert response["WWW-Authenticate"].startswith("Basic")


def test_it_downscopes_to_the_requested_scopes(client: Client, ehr: ApiClient) -> None:
    response = post_form(client, assertion_form(assertion(ehr), scope="consent.check"))
    assert response.json()["scope"] == "consent.check"
    assert AccessToken.objects.get().scopes == ["consent.check"]


def test_it_refuses_a_scope_the_client_is_not_allowed(client: Client, ehr: ApiClient) -> None:
    response = post_form(client, assertion_form(assertion(ehr), scope="consent.check release.write"))
    assert_refused(response, "invalid_scope", 400)
    assert_refused(post_form(client, assertion_form(assertion(ehr), scope="admin")), "invalid_scope", 400)
    assert not AccessToken.objects.exists()


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def test_it_issues_a_token_for_the_client_secret(client: Client, hospital: Organisation) -> None:
    api_client, secret = register_client(
        organisation=hospital, actor=None, name="Lab", allowed_scopes=["consent.check"], with_secret=True
    )
    assert secret and secret not in str(api_client.secret_hash)

    response = post_form(
        client, {"grant_type": "client_credentials"}, Authorization=basic(api_client.client_id, secret)
    )

    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "consent.check"


def test_it_refuses_a_wrong_secret(client: Client, hospital: Organisation) -> None:
    api_client, _ = register_client(
        organisation=hospital, actor=None, name="Lab", allowed_scopes=["consent.check"], with_secret=True
    )
    response = post_form(client, {"grant_type": "client_credentials"}, Authorization=basic(api_client.client_id, "x"))
    assert_refused(response)
    unknown = post_form(client, {"grant_type": "client_credentials"}, Authorization=basic("nobody", "x"))
    assert_refused(unknown)


def test_it_fetches_the_jwks_url_and_refetches_for_an_unknown_kid(
    client: Client, hospital: Organisation, jwks_server: JwksServer
) -> None:
    jwks_server.document = jwks((rsa_key(), "old"))
    api_client, _ = register_client(
        organisation=hospital, actor=None, name="EHR", allowed_scopes=["consent.check"], jwks_url=jwks_server.url
    )
    assert post_form(client, assertion_form(assertion(api_client, kid="old"))).status_code == 200
    assert post_form(client, assertion_form(assertion(api_client, kid="old"))).status_code == 200
    assert jwks_server.requests == ["/jwks.json"]  # cached

    jwks_server.document = jwks((ec_key(), "new"))
    response = post_form(client, assertion_form(assertion(api_client, alg="ES384", kid="new")))

    assert response.status_code == 200, response.content
    assert len(jwks_server.requests) == 2


def test_an_unreachable_jwks_url_is_invalid_client(
    client: Client, hospital: Organisation, jwks_server: JwksServer
) -> None:
    jwks_server.status = 503
    api_client, _ = register_client(
        organisation=hospital, actor=None, name="EHR", allowed_scopes=["consent.check"], jwks_url=jwks_server.url
    )
    assert "JWKS" in assert_refused(post_form(client, assertion_form(assertion(api_client))))


def test_a_jwks_url_on_a_private_address_is_never_fetched(
    client: Client, hospital: Organisation, jwks_server: JwksServer, settings
) -> None:
    settings.MAMORI_OUTBOUND_ALLOW = []  # production: the loopback server is not listed
    jwks_server.document = jwks((rsa_key(), "k"))
    api_client, _ = register_client(
        organisation=hospital, actor=None, name="EHR", allowed_scopes=["consent.check"], jwks_url=jwks_server.url
    )
    assert "JWKS" in assert_refused(post_form(client, assertion_form(assertion(api_client, kid="k"))))
    assert jwks_server.requests == []


def test_the_token_endpoint_is_rate_limited(client: Client, ehr: ApiClient, settings) -> None:
    settings.MAMORI_API_RATE = "2/min"
    for _ in range(2):
        post_form(client, {"grant_type": "client_credentials"})

    response = post_form(client, {"grant_type": "client_credentials"})

    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert int(response["Retry-After"]) > 0


def test_the_discovery_document_names_the_token_endpoint(client: Client, settings, db: None) -> None:
    settings.MAMORI_BASE_URL = "https://mamori.example"
    response = client.get("/.well-known/smart-configuration")

    assert response.status_code == 200
    body = response.json()
    assert body["token_endpoint"] == "https://mamori.example/api/v1/oauth/token"
    assert body["token_endpoint_auth_signing_alg_values_supported"] == ["RS384", "ES384"]
    assert "private_key_jwt" in body["token_endpoint_auth_methods_supported"]
    assert "system/Consent.rs" in body["scopes_supported"]


def test_the_documented_example_clients_assertion_is_accepted(client: Client, ehr: ApiClient) -> None:
    import importlib.util
    from pathlib import Path

    from consent.api.assertions import token_url

    path = Path(__file__).resolve().parents[3] / "docs" / "examples" / "api_client.py"
    spec = importlib.util.spec_from_file_location("mamori_example_client", path)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)

    signed = example.client_assertion(client_id=ehr.client_id, token_url=token_url(), key=rsa_key(), kid="rsa-1")

    assert post_form(client, assertion_form(signed)).status_code == 200
    assert example.public_jwks(ec_key(), "ec-1")["keys"][0]["alg"] == "ES384"
