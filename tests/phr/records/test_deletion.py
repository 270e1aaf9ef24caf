"""A person deletes one connection's records, their uploads, or everything — and nothing else is touched."""

from __future__ import annotations

import pytest
from django.test import Client

from phr.models import (
    AuditEvent,
    Connection,
    FhirEndpoint,
    FhirResource,
    FhirResourceVersion,
    Organisation,
    Person,
    RecordDeletion,
    ResourceIndex,
)
from phr.models.fhir import AuthMode, ConnectionKind
from phr.records import deletion
from tests.conftest import PASSWORD, sign_in
from tests.phr.records.conftest import PATIENT, bundle, ingest_bytes, observation

BASE_URL = "https://fhir.toto-hospital.example.jp/r4"


@pytest.fixture
def connection(alice: Person, hospital: Organisation) -> Connection:
    endpoint = FhirEndpoint.objects.create(
        organisation=hospital, name="東都大学病院 FHIR", base_url=BASE_URL, auth_mode=AuthMode.BACKEND_SERVICES
    )
    return Connection.objects.create(person=alice, endpoint=endpoint, kind=ConnectionKind.HOSPITAL_AUTHORISED)


@pytest.fixture
def records(alice: Person, bob: Person, connection: Connection) -> None:
    """Alice: two versions of a hospital record, and an upload. Bob: a record from the same hospital."""
    for value in ("1.0", "2.0"):
        ingest_bytes(alice, bundle(PATIENT, observation("h1", value=value)), source_key=BASE_URL, connection=connection)
    ingest_bytes(alice, bundle(PATIENT, observation("u1")))
    ingest_bytes(bob, bundle(PATIENT, observation("h1")), source_key=BASE_URL)


def _ids(person: Person) -> set[str]:
    return set(FhirResource.objects.filter(person=person).values_list("resource_id", flat=True))


def test_deleting_a_connections_records_removes_versions_and_index_rows_and_nothing_else(
    alice, bob, connection, records
) -> None:
    scope = deletion.scope_for(alice, str(connection.id))
    assert scope is not None

    done = deletion.delete_records(person=alice, scope=scope, actor=alice.user)

    assert (done.resources_deleted, done.versions_deleted) == (2, 1)
    assert _ids(alice) == {"p1", "u1"}
    assert not FhirResource.objects.filter(person=alice, source_key=BASE_URL).exists()
    assert not FhirResourceVersion.objects.filter(resource__person=alice).exists()
    assert ResourceIndex.objects.filter(person=alice).count() == 2
    assert _ids(bob) == {"p1", "h1"}
    assert ResourceIndex.objects.filter(person=bob).count() == 2
    assert Connection.objects.filter(pk=connection.pk).exists()


def test_deleting_everything_leaves_other_people_alone(alice, bob, records) -> None:
    done = deletion.delete_records(person=alice, scope=deletion.DeletionScope(key=deletion.ALL), actor=alice.user)

    assert done.resources_deleted == 4
    assert _ids(alice) == set()
    assert not ResourceIndex.objects.filter(person=alice).exists()
    assert _ids(bob) == {"p1", "h1"}


def test_deleting_uploads_keeps_hospital_records(alice, records) -> None:
    deletion.delete_records(person=alice, scope=deletion.DeletionScope(key=deletion.UPLOADS), actor=alice.user)

    assert _ids(alice) == {"p1", "h1"}


def test_a_deletion_is_recorded_without_health_data(alice, records) -> None:
    deletion.delete_records(person=alice, scope=deletion.DeletionScope(key=deletion.ALL), actor=alice.user)

    recorded = RecordDeletion.objects.get(person=alice)
    assert (recorded.scope, recorded.actor) == ("all", alice.user)
    event = AuditEvent.objects.get(person=alice, action="records.deleted")
    assert event.detail == {"scope": "all", "resources": 4, "versions": 1, "exports": 0}


def test_another_persons_connection_is_not_a_scope(bob, connection) -> None:
    assert deletion.scope_for(bob, str(connection.id)) is None
    assert deletion.scope_for(bob, "not-a-uuid") is None


def test_the_page_deletes_after_the_typed_confirmation(client, alice, connection, records) -> None:
    sign_in(client, alice.user.email)
    page = client.get("/me/records/delete/")
    assert page.status_code == 200
    assert "東都大学病院 FHIR".encode() in page.content

    wrong = client.post("/me/records/delete/", {"scope": str(connection.id), "confirmation": "yes"})
    assert wrong.status_code == 200
    assert FhirResource.objects.filter(person=alice, source_key=BASE_URL).exists()

    word = page.context["word"]
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    done = client.post("/me/records/delete/", {"scope": str(connection.id), "confirmation": word})
    assert done.status_code == 302, done
    assert done["Location"] == "/me/", done["Location"]
    assert not FhirResource.objects.filter(person=alice, source_key=BASE_URL).exists()
    assert _ids(alice) == {"p1", "u1"}


def test_the_page_asks_for_the_password_again_before_deleting(client, alice, records) -> None:
    sign_in(client, alice.user.email)
    word = client.get("/me/records/delete/").context["word"]

    response = client.post("/me/records/delete/", {"scope": "all", "confirmation": word})

    assert response.status_code == 302
    assert "/reauthenticate/" in response["Location"]
    assert FhirResource.objects.filter(person=alice).count() == 4


def test_only_the_person_reaches_the_deletion_page(carol, alice, records) -> None:
    client = Client()
    sign_in(client, carol.email)

    assert client.get("/me/records/delete/").status_code == 404
