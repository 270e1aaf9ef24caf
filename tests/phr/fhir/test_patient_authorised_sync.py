"""A patient-authorised connection pulling from the real FHIR server with the person's own tokens.

The session's sekmet-fhir server accepts the access tokens the suite's SMART authorisation server issues; the
proxy in front of it publishes that authorisation server in the endpoint's SMART configuration.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from phr.fhir import tokens
from phr.fhir.retry import RetryPolicy
from phr.fhir.sync import SyncOptions, run_sync
from phr.models import Connection, FhirEndpoint, FhirResource
from phr.models.fhir import AuthMode, ConnectionStatus
from phr.models.records import SyncRunStatus
from tests.conftest import sign_in
from tests.phr.fhir.conftest import allow_origin
from tests.phr.fhir.data import patient_transaction
from tests.phr.fhir.peers import PATIENT_ACCESS_TOKENS
from tests.phr.fhir.smart_server import SmartAuthServer

pytestmark = pytest.mark.django_db

CLIENT_ID = "mamori-portal"
OPTIONS = SyncOptions(policy=RetryPolicy(sleep=lambda seconds: None))


@pytest.fixture
def auth_server(settings):
    server = SmartAuthServer(
        client_id=CLIENT_ID,
        redirect_uri=f"{settings.MAMORI_BASE_URL}/me/connections/callback/",
        access_pool=list(PATIENT_ACCESS_TOKENS),
    )
    server.start()
    allow_origin(settings, server.root)
    yield server
    server.stop()


@pytest.fixture
def loaded_counts() -> dict[object, int]:
    """How many resources the server holds for each person's record."""
    return {}


@pytest.fixture
def connection(alice, hospital, peer, auth_server, loaded_counts) -> Connection:
    """Alice's record on the server, and her connection to it made through a real SMART launch."""
    bundle, loaded = patient_transaction(
        profile="anaemia", seed=7, patient_system="urn:example:none", patient_number="1", tag="pa"
    )
    peer.server.transaction(bundle)
    auth_server.patient = loaded.patient_id
    auth_server.audience = peer.server.base_url
    peer.proxy.overrides["/fhir/.well-known/smart-configuration"] = auth_server.smart_configuration()
    endpoint = FhirEndpoint.objects.create(
        organisation=hospital,
        name="東都大学病院 (patient access)",
        base_url=peer.server.base_url,
        auth_mode=AuthMode.SMART_PATIENT,
        client_id=CLIENT_ID,
    )
    client = Client()
    sign_in(client, alice.user.email)
    authorize_url = client.post(f"/me/connections/connect/{endpoint.pk}/")["Location"]
    back = urlsplit(httpx.get(authorize_url, follow_redirects=False, timeout=10).headers["Location"])
    assert client.get(back.path, {k: v[0] for k, v in parse_qs(back.query).items()}).status_code == 302
    loaded_counts[alice.pk] = loaded.count
    return Connection.objects.get(person=alice, endpoint=endpoint)


def expire_access_token(connection: Connection) -> None:
    Connection.objects.filter(pk=connection.pk).update(token_expires_at=timezone.now() - timedelta(minutes=5))


def test_the_persons_token_pulls_their_record(alice, connection, auth_server, loaded_counts) -> None:
    run = run_sync(connection.id, options=OPTIONS)

    assert run is not None and run.status == SyncRunStatus.SUCCEEDED, run.error
    assert FhirResource.objects.filter(person=alice).count() == loaded_counts[alice.pk]
    assert auth_server.token_requests[-1]["grant_type"] == "authorization_code", "no refresh was needed"


def test_an_expired_token_is_refreshed_during_the_sync_and_the_rotation_kept(alice, connection, auth_server) -> None:
    first_refresh = tokens.unseal(connection, tokens.REFRESH_TOKEN)
    expire_access_token(connection)

    run = run_sync(connection.id, options=OPTIONS)

    assert run is not None and run.status == SyncRunStatus.SUCCEEDED, run.error
    assert auth_server.token_requests[-1]["grant_type"] == "refresh_token"
    stored = Connection.objects.get(pk=connection.pk)
    assert tokens.unseal(stored, tokens.REFRESH_TOKEN) != first_refresh
    assert tokens.unseal(stored, tokens.ACCESS_TOKEN) == auth_server.issued_access[-1]


def test_a_refused_refresh_fails_the_run_and_asks_the_person_to_reconnect(alice, connection, auth_server) -> None:
    expire_access_token(connection)
    auth_server.revoke_all()

    run = run_sync(connection.id, options=OPTIONS)

    assert run is not None and run.status == SyncRunStatus.FAILED
    assert run.error == "authorisation failed: the hospital refused to renew access"
    assert Connection.objects.get(pk=connection.pk).status == ConnectionStatus.RECONNECT_NEEDED
    assert not FhirResource.objects.filter(person=alice).exists()
    assert run_sync(connection.id, options=OPTIONS) is None, "no sync until the person reconnects"
