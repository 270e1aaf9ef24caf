"""SMART standalone patient launch against an authorisation server the suite runs on loopback."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from phr.fhir import smart_launch, tokens
from phr.fhir.errors import AuthorisationFailed
from phr.models import Connection, FhirEndpoint
from phr.models.fhir import AuthMode, ConnectionKind, ConnectionStatus
from tests.conftest import sign_in
from tests.phr.fhir.conftest import allow_origin
from tests.phr.fhir.smart_server import SmartAuthServer

pytestmark = pytest.mark.django_db

CLIENT_ID = "mamori-portal"


@pytest.fixture
def auth_server(settings):
    server = SmartAuthServer(client_id=CLIENT_ID, redirect_uri=f"{settings.MAMORI_BASE_URL}/me/connections/callback/")
    server.start()
    allow_origin(settings, server.root)
    yield server
    server.stop()


@pytest.fixture
def smart_endpoint(hospital, auth_server) -> FhirEndpoint:
    return FhirEndpoint.objects.create(
        organisation=hospital,
        name="東都大学病院 (patient access)",
        base_url=auth_server.base_url,
        auth_mode=AuthMode.SMART_PATIENT,
        client_id=CLIENT_ID,
    )


@pytest.fixture
def alice_client(alice) -> Client:
    client = Client()
    sign_in(client, alice.user.email)
    return client


def start_launch(client: Client, endpoint: FhirEndpoint) -> str:
    response = client.post(f"/me/connections/connect/{endpoint.pk}/")
    assert response.status_code == 302
    return str(response["Location"])


def approve(authorize_url: str) -> tuple[str, dict[str, str]]:
    """The person signs in at the hospital and allows access: the server redirects back with a code."""
    response = httpx.get(authorize_url, follow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    return location.path, {k: v[0] for k, v in parse_qs(location.query).items()}


def test_a_launch_asks_for_patient_scopes_with_s256_pkce_and_a_state(alice_client, smart_endpoint) -> None:
    authorize_url = start_launch(alice_client, smart_endpoint)

    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32
    assert query["aud"] == smart_endpoint.base_url
    scopes = query["scope"].split()
    assert {"launch/patient", "openid", "fhirUser", "offline_access"} <= set(scopes)
    assert "patient/Observation.rs" in scopes and "patient/Binary.rs" in scopes


def test_a_completed_launch_stores_the_connection_with_its_tokens_encrypted(
    alice, alice_client, smart_endpoint, auth_server
) -> None:
    path, query = approve(start_launch(alice_client, smart_endpoint))

    response = alice_client.get(path, query)

    assert response.status_code == 302 and response["Location"] == "/me/connections/"
    connection = Connection.objects.get(person=alice, endpoint=smart_endpoint)
    assert connection.kind == ConnectionKind.PATIENT_AUTHORISED and connection.status == ConnectionStatus.ACTIVE
    access = auth_server.issued_access[-1]
    assert tokens.unseal(connection, tokens.ACCESS_TOKEN) == access
    assert access.encode() not in bytes(connection.access_token_encrypted or b"")
    assert tokens.patient_id(connection) == auth_server.patient
    assert tokens.unseal(connection, tokens.REFRESH_TOKEN) in auth_server.refresh_tokens


def test_a_callback_whose_state_does_not_match_is_refused(alice, alice_client, smart_endpoint, auth_server) -> None:
    path, query = approve(start_launch(alice_client, smart_endpoint))

    response = alice_client.get(path, {**query, "state": "forged-state-" + "x" * 32})

    assert response.status_code == 400
    assert not Connection.objects.filter(person=alice).exists()
    assert auth_server.token_requests == [], "the code was never exchanged"


def test_a_callback_in_another_session_is_refused(alice, bob, alice_client, smart_endpoint, auth_server) -> None:
    path, query = approve(start_launch(alice_client, smart_endpoint))
    bob_client = Client()
    sign_in(bob_client, bob.user.email)

    response = bob_client.get(path, query)

    assert response.status_code == 400
    assert not Connection.objects.exists()
    assert auth_server.token_requests == []


def test_the_code_is_worth_nothing_without_the_pkce_verifier(alice, alice_client, smart_endpoint, auth_server) -> None:
    path, query = approve(start_launch(alice_client, smart_endpoint))
    redirect_uri = auth_server.redirect_uri
    form = {
        "grant_type": "authorization_code",
        "code": query["code"],
        "client_id": CLIENT_ID,
        "redirect_uri": redirect_uri,
    }

    without = httpx.post(f"{auth_server.root}/token", data=form, timeout=10)
    wrong = httpx.post(f"{auth_server.root}/token", data={**form, "code_verifier": "w" * 64}, timeout=10)

    assert (without.status_code, without.json()["error"]) == (400, "invalid_grant")
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    # Mamori's own callback holds the verifier in the session, so the same code completes the launch.
    assert alice_client.get(path, query).status_code == 302
    assert auth_server.token_requests[-1]["code_verifier"]
    assert Connection.objects.filter(person=alice, status=ConnectionStatus.ACTIVE).exists()


def test_a_launch_whose_session_lost_the_verifier_is_refused(alice, alice_client, smart_endpoint, auth_server) -> None:
    path, query = approve(start_launch(alice_client, smart_endpoint))
    session = alice_client.session
    pending = session[smart_launch.SESSION_KEY]
    pending[query["state"]].pop("verifier")
    session[smart_launch.SESSION_KEY] = pending
    session.save()

    response = alice_client.get(path, query)

    assert response.status_code == 400
    assert auth_server.token_requests == []
    assert not Connection.objects.filter(person=alice).exists()


def connected(alice, alice_client, smart_endpoint) -> Connection:
    path, query = approve(start_launch(alice_client, smart_endpoint))
    assert alice_client.get(path, query).status_code == 302
    return Connection.objects.select_related("endpoint", "person").get(person=alice, endpoint=smart_endpoint)


def test_a_refresh_stores_the_rotated_refresh_token(alice, alice_client, smart_endpoint, auth_server) -> None:
    connection = connected(alice, alice_client, smart_endpoint)
    old_refresh = tokens.unseal(connection, tokens.REFRESH_TOKEN)
    Connection.objects.filter(pk=connection.pk).update(token_expires_at=timezone.now() - timedelta(minutes=1))
    connection.refresh_from_db()

    access = smart_launch.refresh(connection)

    stored = Connection.objects.get(pk=connection.pk)
    new_refresh = tokens.unseal(stored, tokens.REFRESH_TOKEN)
    assert access == auth_server.issued_access[-1] == tokens.unseal(stored, tokens.ACCESS_TOKEN)
    assert new_refresh != old_refresh and new_refresh in auth_server.refresh_tokens
    assert old_refresh not in auth_server.refresh_tokens, "the server rotated it; the old one is dead"
    assert stored.token_expires_at is not None and stored.token_expires_at > timezone.now()
    # Refreshing again works only because the new token was stored.
    smart_launch.refresh(stored)


def test_a_refused_refresh_means_reconnect_needed(alice, alice_client, smart_endpoint, auth_server) -> None:
    connection = connected(alice, alice_client, smart_endpoint)
    auth_server.revoke_all()

    with pytest.raises(AuthorisationFailed):
        smart_launch.refresh(connection)

    stored = Connection.objects.get(pk=connection.pk)
    assert stored.status == ConnectionStatus.RECONNECT_NEEDED
    assert stored.refresh_token_encrypted is None and stored.access_token_encrypted is None
    page = alice_client.get("/me/connections/")
    assert page.status_code == 200
    assert f'action="/me/connections/connect/{smart_endpoint.pk}/"' in page.content.decode()


def test_reconnecting_makes_the_connection_active_again(alice, alice_client, smart_endpoint, auth_server) -> None:
    connection = connected(alice, alice_client, smart_endpoint)
    auth_server.revoke_all()
    with pytest.raises(AuthorisationFailed):
        smart_launch.refresh(connection)

    connection = connected(alice, alice_client, smart_endpoint)

    assert connection.status == ConnectionStatus.ACTIVE
    assert Connection.objects.filter(person=alice).count() == 1
