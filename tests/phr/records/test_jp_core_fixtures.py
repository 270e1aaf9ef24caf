"""Every JP Core example imports and lands in the category DESIGN.md §3 gives it."""

from __future__ import annotations

from collections import Counter

import pytest

from phr.categories import Tier
from phr.models import ResourceIndex
from phr.models.records import ResourceRole
from tests.phr.records.conftest import JP_CORE, ingest_bytes

SUPPORTING = "supporting"
UNCLASSIFIED = "unclassified"

# file → {(resource type, category, or "supporting"/"unclassified"): count}
EXPECTED: dict[str, dict[tuple[str, str], int]] = {
    "AllergyIntolerance-Example-JP-Allergy-eCS-01.json": {("AllergyIntolerance", "allergies"): 1},
    "AllergyIntolerance-Example-JP-Allergy-eCS-02.json": {("AllergyIntolerance", "allergies"): 1},
    "AllergyIntolerance-Example-JP-AllergyIntolerance-eCS-01.json": {("AllergyIntolerance", "allergies"): 1},
    "AllergyIntolerance-Example-JP-AllergyIntolerance-eCS-02.json": {("AllergyIntolerance", "allergies"): 1},
    "AllergyIntolerance-Example-JP-AllergyIntolerance-eCS-03.json": {
        ("AllergyIntolerance", "drug_contraindications"): 1
    },
    "Bundle-Bundle-CLINS-Observations-Example-01.json": {
        ("Patient", SUPPORTING): 1,
        ("Observation", "lab_results"): 4,
    },
    "Bundle-Bundle-CLINS-PCS-Example-01.json": {
        ("Composition", "care_plans"): 1,
        ("Patient", SUPPORTING): 1,
        ("Practitioner", SUPPORTING): 1,
        ("Organization", SUPPORTING): 1,
        ("Encounter", "encounters"): 1,
        ("CarePlan", "care_plans"): 1,
        ("Condition", "diagnoses"): 2,
    },
    "Bundle-Bundle-CLINS-Referral-Example-01.json": {
        ("Composition", "documents"): 1,
        ("Patient", SUPPORTING): 1,
        ("Encounter", "encounters"): 2,
        ("Practitioner", SUPPORTING): 2,
        ("Organization", SUPPORTING): 2,
        ("Condition", "diagnoses"): 5,
        ("AllergyIntolerance", "allergies"): 2,
        ("AllergyIntolerance", "drug_contraindications"): 1,
        ("Observation", "vital_signs"): 1,
        ("DocumentReference", UNCLASSIFIED): 1,
    },
    "Bundle-Bundle-CLINS-Referral-NoEntry-Example-01.json": {
        ("Composition", "documents"): 1,
        ("Patient", SUPPORTING): 1,
        ("Practitioner", SUPPORTING): 2,
        ("Organization", SUPPORTING): 2,
    },
    "CarePlan-Example-JP-CarePlan-eCS-HT.json": {("CarePlan", "care_plans"): 1},
    "DocumentReference-Example-JP-DocRef-eCS-clinical-ccourse-Referral01.json": {
        ("DocumentReference", UNCLASSIFIED): 1
    },
    "Observation-ErrorExample-ObsLabo-eGFR.json": {("Observation", "lab_results"): 1},
    "Observation-Example-JP-Obs-Common-eCS-PS-textOnly01.json": {("Observation", "vital_signs"): 1},
    "Observation-Example-JP-Obs-LabResult-eCS-Alb.json": {("Observation", "lab_results"): 1},
    "Observation-Example-JP-Obs-LabResult-eCS-K.json": {("Observation", "lab_results"): 1},
    "Observation-Example-JP-Obs-LabResult-eCS-eGFR.json": {("Observation", "lab_results"): 1},
}
BY_PREFIX = {
    "Condition-": ("Condition", "diagnoses"),
    "Encounter-": ("Encounter", "encounters"),
    "MedicationRequest-": ("MedicationRequest", "prescriptions"),
    "Organization-": ("Organization", SUPPORTING),
    "Patient-": ("Patient", SUPPORTING),
    "Practitioner-": ("Practitioner", SUPPORTING),
    "Specimen-": ("Specimen", SUPPORTING),
}
FILES = sorted(path.name for path in JP_CORE.glob("*.json"))


def expected_for(name: str) -> dict[tuple[str, str], int]:
    if name in EXPECTED:
        return EXPECTED[name]
    for prefix, key in BY_PREFIX.items():
        if name.startswith(prefix):
            return {key: 1}
    raise AssertionError(f"no expectation written for {name}")


def test_the_fixture_set_is_the_61_jp_core_examples() -> None:
    if not JP_CORE.is_dir():
        pytest.skip(f"the JP Core fixtures are not at {JP_CORE}")
    assert len(FILES) == 61


@pytest.mark.parametrize("name", FILES)
def test_a_jp_core_example_imports_into_its_category(alice, name: str) -> None:
    report = ingest_bytes(alice, (JP_CORE / name).read_bytes(), source_key=f"fixture:{name}")
    assert report.rejected == 0, report.rejected_entries
    assert report.skipped == 0, report.skipped_entries
    landed: Counter[tuple[str, str]] = Counter()
    for row in ResourceIndex.objects.filter(person=alice):
        if row.role == ResourceRole.SUPPORTING:
            landed[(row.resource_type, SUPPORTING)] += 1
            assert row.tier is None
        elif not row.category:
            landed[(row.resource_type, UNCLASSIFIED)] += 1
        else:
            landed[(row.resource_type, row.category)] += 1
            assert row.tier in Tier.values
    assert dict(landed) == expected_for(name)
    assert report.created == sum(landed.values())
