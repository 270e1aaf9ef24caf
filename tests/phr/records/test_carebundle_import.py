"""carebundle's synthetic US Core bundles (transaction Bundles and bulk NDJSON) import whole."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from phr.models import FhirResource, ResourceIndex
from tests.phr.records.conftest import ingest_bytes, raw_of

carebundle = pytest.importorskip("carebundle", reason="carebundle is a dev requirement (requirements-dev.txt)")


@pytest.mark.parametrize("profile", ["type2_diabetes", "hypertension", "ckd_stage3", "anaemia", "healthy"])
def test_a_carebundle_transaction_bundle_imports_every_entry(alice, profile: str) -> None:
    text = carebundle.to_json(carebundle.generate_bundle(profile=profile, seed=7))
    entries = json.loads(text)["entry"]

    report = ingest_bytes(alice, text.encode())

    assert report.rejected == 0, report.rejected_entries
    assert report.skipped == 0
    assert report.created == len(entries) == FhirResource.objects.filter(person=alice).count()


def test_resources_without_an_id_take_the_uuid_of_their_full_url(alice) -> None:
    text = carebundle.to_json(carebundle.generate_bundle(seed=3))
    first = json.loads(text)["entry"][0]
    assert "id" not in first["resource"]

    ingest_bytes(alice, text.encode())

    row = FhirResource.objects.get(person=alice, resource_id=first["fullUrl"].removeprefix("urn:uuid:"))
    assert json.loads(raw_of(row)) == json.loads(json.dumps(first["resource"]))


def test_carebundle_resources_land_in_their_categories(alice) -> None:
    ingest_bytes(alice, carebundle.to_json(carebundle.generate_bundle(profile="type2_diabetes", seed=11)).encode())

    landed = Counter(ResourceIndex.objects.filter(person=alice).values_list("resource_type", "category"))
    assert landed[("Condition", "diagnoses")] >= 1
    assert landed[("MedicationRequest", "prescriptions")] >= 1
    assert landed[("Observation", "lab_results")] >= 1
    assert landed[("Observation", "vital_signs")] >= 1
    assert landed[("DiagnosticReport", "lab_results")] >= 1
    assert landed[("Encounter", "encounters")] == 1
    assert landed[("Patient", "")] == 1


def test_a_carebundle_bulk_export_imports_as_ndjson(alice) -> None:
    streams = carebundle.to_ndjson([carebundle.generate_bundle(seed=5)])
    ndjson = "".join(text if text.endswith("\n") else text + "\n" for text in streams.values())
    lines = [line for line in ndjson.splitlines() if line.strip()]

    report = ingest_bytes(alice, ndjson.encode())

    assert report.rejected == 0, report.rejected_entries
    assert report.created == len(lines)
    stored = {raw_of(row) for row in FhirResource.objects.filter(person=alice)}
    assert stored == {line.strip().encode() for line in lines}


def test_importing_the_same_bundle_again_changes_nothing(alice) -> None:
    data = carebundle.to_json(carebundle.generate_bundle(seed=9)).encode()
    first = ingest_bytes(alice, data)

    again = ingest_bytes(alice, data)

    assert again.created == again.updated == 0
    assert again.unchanged == first.created
