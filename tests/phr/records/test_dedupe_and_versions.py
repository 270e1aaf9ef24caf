"""Dedupe on source + type + id: unchanged stays, a change makes a new version, earlier versions are kept."""

from __future__ import annotations

from phr.crypto.datakeys import decrypt
from phr.models import FhirResource, FhirResourceVersion, ResourceIndex
from phr.records.services import version_context
from tests.phr.records.conftest import PATIENT, bundle, ingest_bytes, observation, raw_of


def test_the_same_resource_again_is_unchanged(alice) -> None:
    data = bundle(PATIENT, observation("o1"))
    ingest_bytes(alice, data)

    report = ingest_bytes(alice, data)

    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert FhirResource.objects.get(resource_id="o1").version == 1
    assert not FhirResourceVersion.objects.exists()


def test_a_changed_resource_becomes_a_new_version_and_keeps_the_old_one(alice) -> None:
    ingest_bytes(alice, bundle(PATIENT, observation("o1", value="5.0")))
    first = raw_of(FhirResource.objects.get(resource_id="o1"))

    report = ingest_bytes(alice, bundle(PATIENT, observation("o1", value="6.10", status="amended")))

    row = FhirResource.objects.get(resource_id="o1")
    assert (report.updated, report.unchanged) == (1, 1)
    assert row.version == 2
    assert b"6.10" in raw_of(row)
    (old,) = FhirResourceVersion.objects.filter(resource=row)
    assert old.version == 1
    assert decrypt(bytes(old.raw_encrypted), context=version_context(row.id, 1)) == first
    assert ResourceIndex.objects.get(resource=row).status == "amended"


def test_each_change_adds_a_version(alice) -> None:
    for value in ("1.0", "2.0", "3.0"):
        ingest_bytes(alice, bundle(PATIENT, observation("o1", value=value)))

    row = FhirResource.objects.get(resource_id="o1")
    assert row.version == 3
    assert list(row.versions.order_by("version").values_list("version", flat=True)) == [1, 2]


def test_the_same_id_from_another_source_is_another_resource(alice) -> None:
    data = bundle(PATIENT, observation("o1"))
    ingest_bytes(alice, data, source_key="https://a.example.jp/fhir")

    report = ingest_bytes(alice, data, source_key="https://b.example.jp/fhir")

    assert report.created == 2
    assert FhirResource.objects.filter(resource_id="o1").count() == 2


def test_the_same_id_for_another_person_is_kept_apart(alice, bob) -> None:
    data = bundle(PATIENT, observation("o1"))
    ingest_bytes(alice, data, source_key="https://a.example.jp/fhir")

    report = ingest_bytes(bob, data, source_key="https://a.example.jp/fhir")

    assert report.created == 2
    assert FhirResource.objects.filter(person=bob, resource_id="o1").count() == 1


def test_two_versions_of_one_resource_in_one_file_are_stored_in_order(alice) -> None:
    report = ingest_bytes(alice, bundle(PATIENT, observation("o1", value="1.0"), observation("o1", value="2.0")))

    row = FhirResource.objects.get(resource_id="o1")
    assert (report.created, report.updated) == (2, 1)
    assert row.version == 2
    assert b"2.0" in raw_of(row)


def test_the_source_version_and_last_updated_are_kept(alice) -> None:
    meta = {"versionId": "7", "lastUpdated": "2026-05-01T10:00:00.000+09:00"}

    ingest_bytes(alice, bundle(PATIENT, observation("o1", meta=meta)))

    row = FhirResource.objects.get(resource_id="o1")
    assert row.source_version_id == "7"
    assert row.source_last_updated is not None and row.source_last_updated.isoformat() == "2026-05-01T01:00:00+00:00"
