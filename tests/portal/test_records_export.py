"""Export: the person downloads their whole record as a FHIR R4 Bundle; nobody else can; it is recorded."""

from __future__ import annotations

import json

from django.test import Client
from fhir.resources.R4B.bundle import Bundle

from phr.models import AuditEvent, FhirResource, Person, User
from tests.conftest import grant_proxy_to, sign_in
from tests.phr.records.conftest import raw_of
from tests.portal.test_records_fixtures import seed_record


def test_the_export_is_a_valid_bundle_of_every_stored_resource_as_received(client: Client, alice: Person) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)

    response = client.get("/me/records/export/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    Bundle.model_validate_json(body)
    entries = json.loads(body)["entry"]
    stored = {str(row.pk): raw_of(row) for row in FhirResource.objects.filter(person=alice)}
    assert len(entries) == len(stored) == 10
    for entry in entries:
        assert json.loads(stored[entry["fullUrl"].removeprefix("urn:uuid:")]) == entry["resource"]
    assert AuditEvent.objects.filter(person=alice, action="records.exported", actor=alice.user).exists()


def test_an_empty_record_exports_an_empty_bundle(client: Client, alice: Person) -> None:
    sign_in(client, alice.user.email)

    body = b"".join(client.get("/me/records/export/").streaming_content)  # type: ignore[attr-defined]

    assert json.loads(body)["entry"] == []


def test_only_the_person_exports_their_record(client: Client, alice: Person, carol: User) -> None:
    grant_proxy_to(alice, carol)
    sign_in(client, carol.email)

    assert client.get("/me/records/export/").status_code == 404
    assert client.get(f"/people/{alice.pk}/records/export/").status_code == 404


def test_a_proxy_switches_between_own_and_dependents_records(client: Client, alice: Person, bob: Person) -> None:
    grant_proxy_to(alice, bob.user)
    sign_in(client, bob.user.email)

    page = client.get("/me/records/").content.decode()

    assert f'href="/people/{alice.pk}/records/"' in page
    assert 'href="/me/records/" aria-current="page"' in page
