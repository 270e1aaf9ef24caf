"""The staff pages where an organisation administrator registers, rotates and revokes API clients."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.utils import translation

from consent.api_clients import register_client
from consent.models import ApiClient
from phr import services as phr_services
from phr.models import Organisation, User
from phr.models.audit import AuditEvent
from phr.models.parties import OrganisationKind, Role
from portal.views.staff_api_clients import UNSAFE_URL_MESSAGES
from tests.conftest import PASSWORD, TOTP_SECRET, make_user, sign_in_with_totp
from tests.consent.api.client_keys import ec_key, jwks, rsa_key


def make_org_admin(email: str, organisation: Organisation) -> User:
    user = make_user(email)
    phr_services.add_membership(user=user, organisation=organisation, role=Role.ORG_ADMIN, actor=None)
    TOTP.activate(user, TOTP_SECRET)
    return user


@pytest.fixture
def frank(hospital: Organisation) -> User:
    """The hospital's organisation administrator, with TOTP enrolled."""
    return make_org_admin("frank@example.test", hospital)


@pytest.fixture
def other_hospital(db) -> Organisation:
    return phr_services.create_organisation(name="浪速総合病院", kind=OrganisationKind.HOSPITAL, actor=None)


@pytest.fixture
def grace(other_hospital: Organisation) -> User:
    """The other hospital's organisation administrator."""
    return make_org_admin("grace@example.test", other_hospital)


def register(organisation: Organisation, name: str = "EHR") -> ApiClient:
    client, _ = register_client(
        organisation=organisation, actor=None, name=name, allowed_scopes=["consent.check"], with_secret=True
    )
    return client


def sign_in_and_confirm(client: Client, email: str) -> None:
    """Sign in with TOTP, then confirm the password as the pages that change clients ask."""
    sign_in_with_totp(client, email)
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:1000]


def age_the_sign_in(client: Client, settings) -> None:
    session = client.session
    for record in session["account_authentication_methods"]:
        record["at"] -= settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 1
    session.save()


def test_the_staff_home_links_to_api_clients_for_an_org_admin(client: Client, frank: User) -> None:
    sign_in_with_totp(client, frank.email)
    assert b"/staff/api-clients/" in client.get("/staff/").content


def test_an_admin_sees_only_the_clients_of_their_organisation(
    client: Client, frank: User, grace: User, hospital: Organisation, other_hospital: Organisation
) -> None:
    mine, theirs = register(hospital, "Our EHR"), register(other_hospital, "Their EHR")
    sign_in_with_totp(client, frank.email)

    response = client.get("/staff/api-clients/")

    assert response.status_code == 200
    page = response.content.decode()
    assert mine.client_id in page and "Our EHR" in page
    assert theirs.client_id not in page and "Their EHR" not in page


def test_a_reviewer_without_an_admin_role_is_refused(client: Client, dave: User) -> None:
    sign_in_with_totp(client, dave.email)
    assert client.get("/staff/api-clients/").status_code == 403


def test_an_admin_registers_a_client_with_an_inline_jwks_and_a_secret_shown_once(
    client: Client, frank: User, hospital: Organisation
) -> None:
    sign_in_and_confirm(client, frank.email)
    keys = jwks((rsa_key(), "rsa-1"), (ec_key(), "ec-1"))

    response = client.post(
        "/staff/api-clients/new/",
        {
            "organisation": str(hospital.pk),
            "name": "Lab system",
            "allowed_scopes": ["consent.check", "consent.bulk"],
            "jwks": json.dumps(keys),
            "with_secret": "on",
        },
    )

    assert response.status_code == 200, response.content.decode()[:2000]
    assert "no-store" in response["Cache-Control"]
    created = ApiClient.objects.get()
    secret = response.context["secret"]
    assert secret in response.content.decode()
    assert check_password(secret, created.secret_hash or "") and secret not in str(created.secret_hash)
    assert (created.organisation, created.created_by, created.allowed_scopes) == (
        hospital,
        frank,
        ["consent.check", "consent.bulk"],
    )
    assert created.jwks == keys
    event = AuditEvent.objects.get(action="api_client.registered")
    assert event.actor == frank and secret not in json.dumps(event.detail)
    assert secret not in client.get("/staff/api-clients/").content.decode()


def test_an_admin_cannot_register_for_another_organisation(
    client: Client, frank: User, other_hospital: Organisation
) -> None:
    sign_in_and_confirm(client, frank.email)
    response = client.post(
        "/staff/api-clients/new/",
        {"organisation": str(other_hospital.pk), "name": "X", "allowed_scopes": ["consent.check"], "with_secret": "on"},
    )
    assert response.status_code == 200
    assert "organisation" in response.context["form"].errors
    assert not ApiClient.objects.exists()


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"keys": []}',
        '{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}',
        json.dumps({"keys": [{**jwks((rsa_key(), "k"))["keys"][0], "d": "private"}]}),
    ],
)
def test_a_malformed_jwks_is_refused(client: Client, frank: User, hospital: Organisation, text: str) -> None:
    sign_in_and_confirm(client, frank.email)
    response = client.post(
        "/staff/api-clients/new/",
        {"organisation": str(hospital.pk), "name": "X", "allowed_scopes": ["consent.check"], "jwks": text},
    )
    assert response.status_code == 200
    assert "jwks" in response.context["form"].errors
    assert not ApiClient.objects.exists()


@pytest.mark.parametrize(
    "url", ["https://169.254.169.254/latest/meta-data/", "https://10.1.2.3/jwks", "http://ehr.example/jwks"]
)
def test_a_jwks_url_mamori_would_not_fetch_is_refused_with_the_reason(
    client: Client, frank: User, hospital: Organisation, settings, url: str
) -> None:
    sign_in_and_confirm(client, frank.email)
    response = client.post(
        "/staff/api-clients/new/",
        {"organisation": str(hospital.pk), "name": "X", "allowed_scopes": ["consent.check"], "jwks_url": url},
    )
    assert response.status_code == 200
    [message] = response.context["form"].errors["jwks_url"]
    expected = "scheme" if url.startswith("http:") else "private"
    with translation.override("ja"):
        japanese = str(UNSAFE_URL_MESSAGES[expected])
    with translation.override("en"):
        english = str(UNSAFE_URL_MESSAGES[expected])
    assert message in (japanese, english)
    assert not ApiClient.objects.exists()


def test_a_client_without_any_credential_is_refused(client: Client, frank: User, hospital: Organisation) -> None:
    sign_in_and_confirm(client, frank.email)
    response = client.post(
        "/staff/api-clients/new/", {"organisation": str(hospital.pk), "name": "X", "allowed_scopes": ["consent.check"]}
    )
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    assert not ApiClient.objects.exists()


def test_rotating_shows_a_new_secret_once_and_the_old_one_stops_working(
    client: Client, frank: User, hospital: Organisation
) -> None:
    api_client, old_secret = register_client(
        organisation=hospital, actor=None, name="EHR", allowed_scopes=["consent.check"], with_secret=True
    )
    sign_in_and_confirm(client, frank.email)

    response = client.post(f"/staff/api-clients/{api_client.pk}/rotate/")

    assert response.status_code == 200
    new_secret = response.context["secret"]
    api_client.refresh_from_db()
    assert check_password(new_secret, api_client.secret_hash or "")
    assert not check_password(old_secret or "", api_client.secret_hash or "")
    assert api_client.rotated_at is not None
    assert AuditEvent.objects.filter(action="api_client.secret_rotated", actor=frank).exists()


def test_revoking_a_client(client: Client, frank: User, hospital: Organisation) -> None:
    api_client = register(hospital)
    sign_in_and_confirm(client, frank.email)

    response = client.post(f"/staff/api-clients/{api_client.pk}/revoke/")

    assert response.status_code == 302
    api_client.refresh_from_db()
    assert api_client.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_client.revoked", actor=frank).exists()


def test_another_organisations_client_is_not_found(client: Client, frank: User, other_hospital: Organisation) -> None:
    theirs = register(other_hospital)
    sign_in_and_confirm(client, frank.email)

    assert client.post(f"/staff/api-clients/{theirs.pk}/rotate/").status_code == 404
    assert client.post(f"/staff/api-clients/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None and theirs.rotated_at is None


def test_changes_ask_for_the_password_again(client: Client, frank: User, hospital: Organisation, settings) -> None:
    api_client = register(hospital)
    sign_in_and_confirm(client, frank.email)
    age_the_sign_in(client, settings)

    for url in ("/staff/api-clients/new/", f"/staff/api-clients/{api_client.pk}/revoke/"):
        response = client.post(url, {})
        assert response.status_code == 302 and "/accounts/reauthenticate/" in response["Location"], url
    api_client.refresh_from_db()
    assert api_client.revoked_at is None

    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert client.post(f"/staff/api-clients/{api_client.pk}/revoke/").status_code == 302
    api_client.refresh_from_db()
    assert api_client.revoked_at is not None


def test_the_list_costs_the_same_queries_for_one_client_or_many(
    client: Client, frank: User, hospital: Organisation
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    register(hospital, "First")
    sign_in_with_totp(client, frank.email)
    with CaptureQueriesContext(connection) as one:
        client.get("/staff/api-clients/")
    for index in range(4):
        register(hospital, f"More {index}")
    with CaptureQueriesContext(connection) as five:
        response = client.get("/staff/api-clients/")

    assert response.content.decode().count("<tr>") == 6
    assert len(five.captured_queries) == len(one.captured_queries)


def test_the_list_is_in_japanese_by_default(client: Client, frank: User, hospital: Organisation) -> None:
    register(hospital)
    sign_in_with_totp(client, frank.email)
    page = client.get("/staff/api-clients/", headers={"Accept-Language": "ja"}).content.decode()
    assert "API クライアント" in page and "シークレットを更新" in page


def test_replacing_the_keys_refuses_assertions_of_the_old_key(
    client: Client, frank: User, hospital: Organisation
) -> None:
    from tests.consent.api.client_keys import assertion, assertion_form

    api_client, _ = register_client(
        organisation=hospital, actor=None, name="EHR", allowed_scopes=["consent.check"], jwks=jwks((rsa_key(), "old"))
    )
    sign_in_and_confirm(client, frank.email)
    assert client.get(f"/staff/api-clients/{api_client.pk}/keys/").status_code == 200

    response = client.post(f"/staff/api-clients/{api_client.pk}/keys/", {"jwks": json.dumps(jwks((ec_key(), "new")))})

    assert response.status_code == 302, response.content.decode()[:2000]
    token_url = "/api/v1/oauth/token"
    form = "application/x-www-form-urlencoded"
    old = client.post(token_url, urlencode(assertion_form(assertion(api_client, kid="old"))), content_type=form)
    new_form = assertion_form(assertion(api_client, alg="ES384", kid="new"))
    new = client.post(token_url, urlencode(new_form), content_type=form)
    assert (old.status_code, new.status_code) == (401, 200)
    assert AuditEvent.objects.filter(action="api_client.keys_replaced", actor=frank).exists()


def test_another_organisations_keys_are_not_found(client: Client, frank: User, other_hospital: Organisation) -> None:
    theirs = register(other_hospital)
    sign_in_and_confirm(client, frank.email)
    assert client.get(f"/staff/api-clients/{theirs.pk}/keys/").status_code == 404
    assert client.post(f"/staff/api-clients/{theirs.pk}/keys/", {"jwks_url": "https://x.example/j"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.jwks_url == ""
