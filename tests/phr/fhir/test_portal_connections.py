"""The connections pages: the person's list, "sync now" with its JSON status, proxies, the operator's link page."""

from __future__ import annotations

import pytest
from django.test import Client

from phr import services as party_services
from phr.fhir import services as fhir_services
from phr.models import Connection, SyncRun
from phr.models.fhir import ConnectionStatus
from phr.models.parties import ProxyScope
from phr.models.records import SyncRunStatus
from tests.conftest import grant_proxy_to, sign_in, sign_in_with_totp
from tests.phr.fhir.conftest import make_endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch) -> list[tuple[str, str]]:
    """Tasks sent to the broker (recorded here, so no message is left in the development queue)."""
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr("phr.tasks.sync_connection.delay", lambda *args: sent.append(args))
    return sent


@pytest.fixture
def alice_connection(alice, erin, hospital, peer) -> Connection:
    endpoint = make_endpoint(hospital, peer)
    return fhir_services.link_hospital_patient(person=alice, endpoint=endpoint, patient_number="12345678", actor=erin)


def client_for(user) -> Client:
    client = Client()
    sign_in(client, user.email)
    return client


def test_a_person_sees_their_connections_with_a_sync_button(
    alice, alice_connection, django_assert_max_num_queries
) -> None:
    client = client_for(alice.user)

    with django_assert_max_num_queries(12):
        response = client.get("/me/connections/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "東都大学病院" in body
    assert f'action="/connections/{alice_connection.pk}/sync/"' in body
    assert '<script src="/static/js/sync-status.js" defer></script>' in body
    assert "<script>" not in body, "the CSP allows no inline script"


def test_sync_now_queues_one_run_on_commit_and_reports_it_as_json(
    alice, alice_connection, queued, django_capture_on_commit_callbacks
) -> None:
    client = client_for(alice.user)

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(f"/connections/{alice_connection.pk}/sync/", HTTP_ACCEPT="application/json")
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(f"/connections/{alice_connection.pk}/sync/", HTTP_ACCEPT="application/json")

    assert first.status_code == again.status_code == 202
    assert first.json()["status"] == SyncRunStatus.QUEUED and first.json()["in_progress"] is True
    run = SyncRun.objects.get(connection=alice_connection)
    assert queued == [(str(alice_connection.pk), str(run.pk))], "a second press while queued adds nothing"
    status = client.get(f"/connections/{alice_connection.pk}/status/")
    assert status.json()["status"] == SyncRunStatus.QUEUED
    assert status["Cache-Control"] == "no-store"


def test_another_person_cannot_see_or_sync_a_connection(bob, alice_connection, queued) -> None:
    client = client_for(bob.user)

    assert client.get(f"/connections/{alice_connection.pk}/status/").status_code == 404
    assert client.post(f"/connections/{alice_connection.pk}/sync/").status_code == 404
    assert queued == []


def test_a_proxy_who_may_only_view_sees_the_list_but_cannot_sync(alice, carol, alice_connection, queued) -> None:
    grant_proxy_to(alice, carol)
    client = client_for(carol)

    assert client.get(f"/people/{alice.pk}/connections/").status_code == 200
    assert client.get(f"/connections/{alice_connection.pk}/status/").status_code == 200
    assert client.post(f"/connections/{alice_connection.pk}/sync/").status_code == 404
    assert queued == []


def test_a_proxy_who_manages_can_sync_for_the_person(alice, carol, alice_connection, queued) -> None:
    grant_proxy_to(alice, carol, scope=ProxyScope.MANAGE_CONSENT)
    client = client_for(carol)

    response = client.post(f"/connections/{alice_connection.pk}/sync/")

    assert response.status_code == 302 and response["Location"] == f"/people/{alice.pk}/connections/"
    assert SyncRun.objects.filter(connection=alice_connection, status=SyncRunStatus.QUEUED).exists()


def test_a_connection_that_needs_reconnecting_cannot_sync(alice, alice_connection, queued) -> None:
    Connection.objects.filter(pk=alice_connection.pk).update(status=ConnectionStatus.RECONNECT_NEEDED)
    client = client_for(alice.user)

    response = client.post(f"/connections/{alice_connection.pk}/sync/", HTTP_ACCEPT="application/json")

    assert response.status_code == 409
    assert not SyncRun.objects.exists()


def test_an_operator_links_a_patient_number_and_creates_a_hospital_connection(
    alice, erin, hospital, peer, queued, django_capture_on_commit_callbacks
) -> None:
    from django.conf import settings

    endpoint = make_endpoint(hospital, peer)
    party_services.link_identifier(person=alice, system=settings.MAMORI_LINKAGE_SYSTEM, value="MMR0000001", actor=None)
    client = Client()
    sign_in_with_totp(client, erin.email)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/staff/connections/link/",
            {
                "linkage_id": "MMR0000001",
                "endpoint": str(endpoint.pk),
                "patient_number": "８７６５４３２１",
                "sync_now": "on",
            },
        )

    assert response.status_code == 302, response.content.decode()[:2000]
    connection = Connection.objects.get(person=alice, endpoint=endpoint)
    assert connection.kind == "hospital_authorised" and connection.status == ConnectionStatus.ACTIVE
    assert alice.identifiers.filter(system=hospital.patient_number_system).exists()
    assert len(queued) == 1


def test_staff_without_the_operator_admin_role_cannot_link(dave) -> None:
    client = Client()
    sign_in_with_totp(client, dave.email)

    assert client.get("/staff/connections/link/").status_code == 403


def test_hospitals_a_person_can_authorise_are_offered_until_connected(alice, hospital) -> None:
    from phr.models import FhirEndpoint
    from phr.models.fhir import AuthMode, ConnectionKind

    endpoint = FhirEndpoint.objects.create(
        organisation=hospital, name="patient access", base_url="https://fhir.example.jp/r4",
        auth_mode=AuthMode.SMART_PATIENT, client_id="mamori",
    )  # fmt: skip
    client = client_for(alice.user)
    connect_form = f'action="/me/connections/connect/{endpoint.pk}/"'

    assert connect_form in client.get("/me/connections/").content.decode()
    Connection.objects.create(person=alice, endpoint=endpoint, kind=ConnectionKind.PATIENT_AUTHORISED)
    assert connect_form not in client.get("/me/connections/").content.decode()


def test_a_person_disconnects_a_hospital_and_no_more_syncs_run(alice, bob, alice_connection, queued) -> None:
    assert client_for(bob.user).post(f"/connections/{alice_connection.pk}/disconnect/").status_code == 404
    client = client_for(alice.user)

    response = client.post(f"/connections/{alice_connection.pk}/disconnect/")

    assert response.status_code == 302
    assert Connection.objects.get(pk=alice_connection.pk).status == ConnectionStatus.REVOKED
    assert client.post(f"/connections/{alice_connection.pk}/sync/", HTTP_ACCEPT="application/json").status_code == 409
    assert queued == []
