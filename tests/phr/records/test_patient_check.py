"""A resource about someone other than the connection's patient is refused; the others are stored."""

from __future__ import annotations

from phr.models import FhirResource
from tests.phr.records.conftest import PATIENT, bundle, ingest_bytes, observation


def test_a_resource_for_another_patient_is_refused(alice) -> None:
    data = bundle(observation("mine"), observation("theirs", patient="Patient/someone-else"))

    report = ingest_bytes(alice, data, source_key="https://fhir.example.jp/r4", expected_patient_ref="Patient/p1")

    assert report.created == 1
    assert report.rejected == 1
    assert report.rejected_entries[0]["id"] == "theirs"
    assert not FhirResource.objects.filter(resource_id="theirs").exists()


def test_an_absolute_reference_to_the_expected_patient_is_accepted(alice) -> None:
    data = bundle(observation("abs", patient="https://fhir.example.jp/r4/Patient/p1/_history/3"))

    report = ingest_bytes(alice, data, expected_patient_ref="https://fhir.example.jp/r4/Patient/p1")

    assert report.created == 1


def test_another_patient_resource_in_the_same_upload_is_refused(alice) -> None:
    other = {"resourceType": "Patient", "id": "p2"}

    report = ingest_bytes(alice, bundle(PATIENT, observation("o1"), other, observation("o2", patient="Patient/p2")))

    assert report.created == 2
    assert {entry["id"] for entry in report.rejected_entries} == {"p2", "o2"}


def test_without_an_expected_patient_the_first_patient_pins_the_upload(alice) -> None:
    report = ingest_bytes(alice, bundle(observation("o1", patient="Patient/a"), observation("o2", patient="Patient/b")))

    assert report.created == 1
    assert report.rejected_entries[0]["id"] == "o2"


def test_a_subject_given_by_identifier_matches_the_patient_with_that_identifier(alice) -> None:
    patient = {**PATIENT, "identifier": [{"system": "urn:oid:1.2.392.1", "value": "００１２３"}]}
    by_identifier = observation("o1")
    by_identifier["subject"] = {"identifier": {"system": "urn:oid:1.2.392.1", "value": "00123"}}
    stranger = observation("o2")
    stranger["subject"] = {"identifier": {"system": "urn:oid:1.2.392.1", "value": "99999"}}

    report = ingest_bytes(alice, bundle(patient, by_identifier, stranger), expected_patient_ref="Patient/p1")

    assert report.created == 2
    assert report.rejected_entries[0]["id"] == "o2"


def test_a_subject_that_is_not_a_patient_is_refused(alice) -> None:
    report = ingest_bytes(alice, bundle(PATIENT, observation("o1", patient="Group/ward-3")))

    assert report.rejected == 1


def test_resources_that_name_no_patient_are_accepted(alice) -> None:
    practitioner = {"resourceType": "Practitioner", "id": "dr1"}

    report = ingest_bytes(alice, bundle(practitioner), expected_patient_ref="Patient/p1")

    assert report.created == 1
