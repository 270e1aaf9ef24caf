"""The storing step's plain statements: what the source already holds, and rows written in bulk."""

from __future__ import annotations

from django.utils import timezone

from phr.models import FhirResource, Person
from phr.records.bulk import insert_rows, stored_versions
from phr.records.services import upload_source_key
from phr.records.store import RESOURCE_COLUMNS
from tests.phr.records.conftest import PATIENT, bundle, ingest_bytes, observation


def test_stored_versions_name_each_resource_its_digest_and_whether_the_source_still_serves_it(alice: Person) -> None:
    ingest_bytes(alice, bundle(PATIENT, observation("o1"), observation("o2")))
    source = upload_source_key(alice)
    FhirResource.objects.filter(person=alice, resource_id="o2").update(deleted_at_source=timezone.now())

    found = stored_versions(alice, source, {"o1", "o2", "unknown"})

    rows = {(row.resource_type, row.resource_id): row for row in FhirResource.objects.filter(person=alice)}
    assert set(found) == {("Observation", "o1"), ("Observation", "o2")}
    for key, version in found.items():
        assert (version.pk, version.digest) == (rows[key].pk, rows[key].content_digest)
    assert found["Observation", "o1"].live and not found["Observation", "o2"].live
    assert stored_versions(alice, "another source", {"o1"}) == {}


def test_no_rows_means_no_statement(db, django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        insert_rows(FhirResource, RESOURCE_COLUMNS, [])


def test_rows_with_ids_as_text_are_stored_as_with_uuids(alice: Person, bob: Person) -> None:
    ingest_bytes(alice, bundle(PATIENT, observation("o1")))
    template = FhirResource.objects.get(person=alice, resource_id="o1")
    now = timezone.now()
    row = [
        getattr(template, name if name not in {"person", "connection"} else f"{name}_id") for name in RESOURCE_COLUMNS
    ]
    new_id = "0b3f6a3e-52a7-4f7c-9d51-1c1a2e0f6b11"
    row[0], row[1], row[-2], row[-1] = new_id, str(bob.pk), now, now

    insert_rows(FhirResource, RESOURCE_COLUMNS, [row])

    stored = FhirResource.objects.get(pk=new_id)
    assert (stored.person_id, stored.resource_id) == (bob.pk, "o1")
