"""Bearer tokens, scopes, tenant isolation and the per-client rate limit of the hospital API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.http import Http404
from django.test import Client
from django.urls import path
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from consent.api.auth import ApiPrincipal, ClientAPIView, HasScope
from consent.api_clients import hash_token, issue_token, register_client, revoke_client
from consent.models import AccessToken, ApiClient
from phr import services as phr_services
from phr.models import Organisation
from phr.models.parties import OrganisationKind

pytestmark = pytest.mark.urls("tests.consent.api.test_api_auth")


class ClientDetailView(ClientAPIView):
    """A stand-in endpoint: one API client of the caller's organisation (another organisation's is a 404)."""

    permission_classes = (HasScope("consent.check"),)

    def get(self, request: Request, pk: str) -> Response:
        assert isinstance(request.user, ApiPrincipal)
        found = ApiClient.objects.filter(organisation=request.user.organisation, pk=pk).first()
        if found is None:
            raise Http404
        return Response({"client_id": found.client_id, "scopes": sorted(request.user.scopes)})


class ReleaseView(ClientAPIView):
    permission_classes = (HasScope("consent.check", "release.write"),)

    def post(self, request: Request) -> Response:
        return Response(status=204)


urlpatterns = [
    path("t/clients/<uuid:pk>", ClientDetailView.as_view()),
    path("t/releases", ReleaseView.as_view()),
]


@pytest.fixture
def ehr(hospital: Organisation) -> ApiClient:
    client, _ = register_client(
        organisation=hospital,
        actor=None,
        name="EHR",
        allowed_scopes=["consent.check", "release.write"],
        with_secret=True,
    )
    return client


@pytest.fixture
def other_ehr(db) -> ApiClient:
    other = phr_services.create_organisation(name="浪速総合病院", kind=OrganisationKind.HOSPITAL, actor=None)
    client, _ = register_client(
        organisation=other, actor=None, name="EHR", allowed_scopes=["consent.check"], with_secret=True
    )
    return client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def test_a_token_authenticates_its_client_and_organisation(client: Client, ehr: ApiClient) -> None:
    token = issue_token(client=ehr, scopes=["consent.check"])

    response = client.get(f"/t/clients/{ehr.pk}", headers=bearer(token))

    assert response.status_code == 200, response.content
    assert response.json() == {"client_id": ehr.client_id, "scopes": ["consent.check"]}


def test_only_the_hash_of_a_token_is_stored(ehr: ApiClient) -> None:
    token = issue_token(client=ehr, scopes=["consent.check"])
    stored = AccessToken.objects.get()
    assert token not in stored.token_hash and len(stored.token_hash) == 64


def test_without_a_token_it_answers_401_with_a_bearer_challenge(client: Client, ehr: ApiClient) -> None:
    response = client.get(f"/t/clients/{ehr.pk}")
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_token_is_401(client: Client, ehr: ApiClient) -> None:
    response = client.get(f"/t/clients/{ehr.pk}", headers=bearer("not-a-token"))
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_token_is_401(client: Client, ehr: ApiClient) -> None:
    token = issue_token(client=ehr, scopes=["consent.check"])
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.get(f"/t/clients/{ehr.pk}", headers=bearer(token))

    body = assert_problem(response, 401)
    assert "expired" in body["detail"]


def test_tokens_live_five_minutes_by_default(ehr: ApiClient) -> None:
    issue_token(client=ehr, scopes=["consent.check"])
    lifetime = AccessToken.objects.get().expires_at - timezone.now()
    assert timedelta(minutes=4, seconds=55) < lifetime <= timedelta(minutes=5)


def test_a_revoked_clients_token_is_401(client: Client, ehr: ApiClient) -> None:
    token = issue_token(client=ehr, scopes=["consent.check"])
    revoke_client(client=ehr, actor=None)
    assert_problem(client.get(f"/t/clients/{ehr.pk}", headers=bearer(token)), 401)


def test_a_missing_scope_is_403_naming_the_scope(client: Client, ehr: ApiClient) -> None:
    token = issue_token(client=ehr, scopes=["consent.check"])

    response = client.post("/t/releases", headers=bearer(token))

    body = assert_problem(response, 403)
    assert "release.write" in body["detail"]
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


def test_every_scope_named_is_required(client: Client, ehr: ApiClient) -> None:
    token = issue_token(client=ehr, scopes=["consent.check", "release.write"])
    assert client.post("/t/releases", headers=bearer(token)).status_code == 204


def test_a_token_cannot_carry_a_scope_the_client_is_not_allowed(other_ehr: ApiClient) -> None:
    from consent.api_clients import ApiClientError

    with pytest.raises(ApiClientError):
        issue_token(client=other_ehr, scopes=["release.write"])


def test_one_organisations_token_cannot_read_anothers_objects(
    client: Client, ehr: ApiClient, other_ehr: ApiClient
) -> None:
    token = issue_token(client=ehr, scopes=["consent.check"])
    other_token = issue_token(client=other_ehr, scopes=["consent.check"])

    assert_problem(client.get(f"/t/clients/{other_ehr.pk}", headers=bearer(token)), 404)
    assert_problem(client.get(f"/t/clients/{ehr.pk}", headers=bearer(other_token)), 404)
    assert client.get(f"/t/clients/{other_ehr.pk}", headers=bearer(other_token)).status_code == 200


def test_each_client_is_rate_limited_on_its_own(client: Client, ehr: ApiClient, other_ehr: ApiClient, settings) -> None:
    settings.MAMORI_API_RATE = "3/min"
    token = issue_token(client=ehr, scopes=["consent.check"])
    for _ in range(3):
        assert client.get(f"/t/clients/{ehr.pk}", headers=bearer(token)).status_code == 200

    response = client.get(f"/t/clients/{ehr.pk}", headers=bearer(token))

    assert_problem(response, 429)
    assert 0 < int(response["Retry-After"]) <= 60
    other_token = issue_token(client=other_ehr, scopes=["consent.check"])
    assert client.get(f"/t/clients/{other_ehr.pk}", headers=bearer(other_token)).status_code == 200


def test_the_purge_task_deletes_expired_tokens_and_old_jtis(ehr: ApiClient) -> None:
    from consent.api_clients import remember_assertion
    from consent.models import UsedAssertion
    from consent.tasks import purge_api_credentials

    issue_token(client=ehr, scopes=["consent.check"])
    live = issue_token(client=ehr, scopes=["consent.check"])
    AccessToken.objects.exclude(token_hash=hash_token(live)).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert remember_assertion(client=ehr, jti="old", expires_at=timezone.now() - timedelta(hours=1))
    assert remember_assertion(client=ehr, jti="recent", expires_at=timezone.now() - timedelta(minutes=1))
    assert not remember_assertion(client=ehr, jti="recent", expires_at=timezone.now())

    assert purge_api_credentials() == 2

    assert AccessToken.objects.get().token_hash == hash_token(live)
    assert list(UsedAssertion.objects.values_list("jti", flat=True)) == ["recent"]
