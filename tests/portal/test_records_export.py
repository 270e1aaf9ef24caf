"""Export: the person (or a proxy with the view scope) downloads the whole record as a FHIR R4 Bundle or as
NDJSON; a small record streams at once, and every download is recorded."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from phr.models import AuditEvent, FhirResource, Person, RecordAccess, User
from tests.conftest import grant_proxy_to, sign_in
from tests.phr.records.conftest import raw_of
from tests.portal.test_records_fixtures import seed_record

BUNDLE_URL = "/me/records/export/download/bundle/"
NDJSON_URL = "/me/records/export/download/ndjson/"


def body_of(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def owner(person: Person) -> User:
    """The person's own login (the personas always have one)."""
    assert person.user is not None
    return person.user


def stored_raw(person: Person) -> dict[str, bytes]:
    return {str(row.pk): raw_of(row) for row in FhirResource.objects.filter(person=person)}


def test_the_export_is_a_valid_bundle_of_every_stored_resource_as_received(client: Client, alice: Person) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)

    response = client.get(BUNDLE_URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert "attachment" in response["Content-Disposition"] and ".json" in response["Content-Disposition"]
    body = body_of(response)
    Bundle.model_validate_json(body)
    entries = json.loads(body)["entry"]
    stored = stored_raw(alice)
    assert len(entries) == len(stored) == 10
    for entry in entries:
        assert json.loads(stored[entry["fullUrl"].removeprefix("urn:uuid:")]) == entry["resource"]
    assert AuditEvent.objects.filter(person=alice, action="records.exported", actor=alice.user).exists()


def test_each_ndjson_line_is_a_valid_resource_equal_to_the_raw_json_received(client: Client, alice: Person) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)

    response = client.get(NDJSON_URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+ndjson"
    assert ".ndjson" in response["Content-Disposition"]
    lines = body_of(response).split(b"\n")
    assert lines[-1] == b""
    lines = lines[:-1]
    raws = sorted(stored_raw(alice).values())
    assert sorted(lines) == raws
    types = []
    for line in lines:
        resource_type = json.loads(line)["resourceType"]
        get_fhir_model_class(resource_type).model_validate_json(line)
        types.append(resource_type)
    assert types == sorted(types), "lines are grouped by resource type"


def test_a_resource_received_pretty_printed_stays_on_one_line_with_the_same_json(client: Client, alice: Person) -> None:
    from tests.phr.records.conftest import ingest_bytes

    pretty = json.dumps({"resourceType": "Patient", "id": "p9", "name": [{"family": "改行\\n入り"}]}, indent=2)
    ingest_bytes(alice, pretty.encode())
    sign_in(client, alice.user.email)

    lines = body_of(client.get(NDJSON_URL)).splitlines()

    assert len(lines) == 1
    assert json.loads(lines[0]) == json.loads(pretty)


def test_a_resource_the_hospital_withdrew_is_not_exported(client: Client, alice: Person) -> None:
    seed_record(alice)
    withdrawn = FhirResource.objects.filter(person=alice).exclude(resource_type="Patient").first()
    assert withdrawn is not None
    FhirResource.objects.filter(pk=withdrawn.pk).update(deleted_at_source=timezone.now())
    sign_in(client, alice.user.email)

    lines = body_of(client.get(NDJSON_URL)).splitlines()
    bundle = json.loads(body_of(client.get(BUNDLE_URL)))

    assert len(lines) == len(bundle["entry"]) == FhirResource.objects.filter(person=alice).count() - 1
    assert str(withdrawn.pk) not in {entry["fullUrl"].removeprefix("urn:uuid:") for entry in bundle["entry"]}


def test_an_empty_record_exports_an_empty_bundle_and_an_empty_ndjson(client: Client, alice: Person) -> None:
    sign_in(client, alice.user.email)

    assert json.loads(body_of(client.get(BUNDLE_URL)))["entry"] == []
    assert body_of(client.get(NDJSON_URL)) == b""
    assert client.get("/me/records/export/download/xml/").status_code == 404


def test_the_export_page_offers_both_formats_and_the_printable_summary(client: Client, alice: Person) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)

    page = client.get("/me/records/export/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert f'href="{BUNDLE_URL}"' in page and f'href="{NDJSON_URL}"' in page
    assert 'href="/me/records/print/"' in page
    assert "10 resources" in page


def test_a_proxy_exports_a_dependents_record_and_the_person_sees_it(client: Client, alice: Person, carol: User) -> None:
    seed_record(alice)
    grant_proxy_to(alice, carol)
    sign_in(client, carol.email)

    assert client.get("/me/records/export/").status_code == 404
    page = client.get(f"/people/{alice.pk}/records/export/")
    response = client.get(f"/people/{alice.pk}/records/export/download/ndjson/")

    assert page.status_code == 200
    assert len(body_of(response).splitlines()) == 10
    pages = set(RecordAccess.objects.filter(person=alice, actor=carol, route="proxy").values_list("page", flat=True))
    assert {"records.export", "records.export_download"} <= pages


def test_nobody_else_exports_a_persons_record(client: Client, alice: Person, bob: Person) -> None:
    seed_record(alice)
    sign_in(client, bob.user.email)

    assert client.get(f"/people/{alice.pk}/records/export/").status_code == 404
    assert client.get(f"/people/{alice.pk}/records/export/download/bundle/").status_code == 404
    assert client.get(f"/people/{alice.pk}/records/print/").status_code == 404
    assert Client().get(BUNDLE_URL).status_code == 302  # signed out: to the sign-in page
    assert not RecordAccess.objects.exists()


def test_a_proxy_switches_between_own_and_dependents_records(client: Client, alice: Person, bob: Person) -> None:
    grant_proxy_to(alice, bob.user)
    sign_in(client, bob.user.email)

    page = client.get("/me/records/").content.decode()

    assert f'href="/people/{alice.pk}/records/"' in page
    assert 'href="/me/records/" aria-current="page"' in page
