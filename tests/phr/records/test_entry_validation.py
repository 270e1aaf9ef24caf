"""Entries are validated one by one: a bad one is reported (type, id, why — no values) and the rest stored."""

from __future__ import annotations

import json

from django.utils import translation

from phr.models import FhirResource, ResourceIndex
from tests.phr.records.conftest import PATIENT, bundle, ingest_bytes, observation


def test_one_invalid_entry_among_valid_ones_is_rejected_alone(alice) -> None:
    bad = observation("bad", effectiveDateTime="SECRET-not-a-date")
    data = bundle(PATIENT, observation("good-1"), bad, observation("good-2"))

    report = ingest_bytes(alice, data)

    assert report.created == 3
    assert report.rejected == 1
    assert set(FhirResource.objects.filter(person=alice).values_list("resource_id", flat=True)) == {
        "p1",
        "good-1",
        "good-2",
    }
    (rejected,) = report.rejected_entries
    assert rejected["resource_type"] == "Observation"
    assert rejected["id"] == "bad"
    assert rejected["errors"][0]["loc"] == "effectiveDateTime"
    assert rejected["errors"][0]["type"] == "value_error"


def test_a_rejection_report_never_carries_the_input_values(alice) -> None:
    bad = observation("bad", status={"text": "SECRET-status"}, extra_element="SECRET-extra")
    bad["valueQuantity"]["value"] = "SECRET-value"

    report = ingest_bytes(alice, bundle(PATIENT, bad))

    assert report.rejected == 1
    assert "SECRET" not in json.dumps(report.rejected_entries, ensure_ascii=False)
    assert {error["loc"] for error in report.rejected_entries[0]["errors"]} >= {"status", "extra_element"}


def test_an_unknown_resource_type_is_skipped_and_reported(alice) -> None:
    with translation.override("en"):
        report = ingest_bytes(alice, bundle(PATIENT, {"resourceType": "Spaceship", "id": "x1"}, observation("o1")))

    assert report.skipped == 1
    assert report.skipped_entries[0]["resource_type"] == "Spaceship"
    assert report.skipped_entries[0]["id"] == "x1"
    assert "resource type" in report.skipped_entries[0]["reason"]
    assert report.created == 2


def test_a_data_type_is_not_taken_for_a_resource_type(alice) -> None:
    report = ingest_bytes(alice, bundle(PATIENT, {"resourceType": "Coding", "id": "c1"}))

    assert report.skipped == 1
    assert not FhirResource.objects.filter(resource_id="c1").exists()


def test_entries_without_a_resource_and_search_outcomes_are_skipped(alice) -> None:
    data = json.dumps(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {"resource": PATIENT, "search": {"mode": "match"}},
                {"resource": {"resourceType": "OperationOutcome", "issue": []}, "search": {"mode": "outcome"}},
                {"request": {"method": "DELETE", "url": "Observation/1"}},
            ],
        }
    ).encode()

    report = ingest_bytes(alice, data)

    assert (report.created, report.skipped, report.rejected) == (1, 2, 0)


def test_a_resource_without_any_id_is_rejected(alice) -> None:
    nameless = observation("x")
    del nameless["id"]

    report = ingest_bytes(alice, bundle(PATIENT, nameless))

    assert report.rejected == 1
    assert report.rejected_entries[0]["resource_type"] == "Observation"


def test_a_rejected_entry_leaves_no_index_row(alice) -> None:
    ingest_bytes(alice, bundle(PATIENT, observation("bad", status=5)))

    assert not ResourceIndex.objects.filter(person=alice, resource_type="Observation").exists()
