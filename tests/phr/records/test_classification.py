"""Categories beyond the JP Core examples: tier 3 by ICD-10 range or genetics, infections, imaging, lifelog."""

from __future__ import annotations

from typing import Any

import pytest

from phr.categories import DataCategory
from phr.records.classify import classify

ICD10 = "http://hl7.org/fhir/sid/icd-10"


def condition(code: str, system: str = ICD10) -> dict[str, Any]:
    return {"resourceType": "Condition", "code": {"coding": [{"system": system, "code": code}]}}


def observation(category: str | None, *codings: tuple[str, str]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "code": {"coding": [{"system": system, "code": code} for system, code in codings]},
    }
    if category:
        resource["category"] = [{"coding": [{"code": category}]}]
    return resource


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("F32.1", DataCategory.SENSITIVE_DIAGNOSES),
        ("F99", DataCategory.SENSITIVE_DIAGNOSES),
        ("B20", DataCategory.SENSITIVE_DIAGNOSES),
        ("B24", DataCategory.SENSITIVE_DIAGNOSES),
        ("A53.9", DataCategory.SENSITIVE_DIAGNOSES),
        ("O04", DataCategory.SENSITIVE_DIAGNOSES),
        ("A09", DataCategory.INFECTIONS),
        ("B18.2", DataCategory.INFECTIONS),
        ("A49", DataCategory.INFECTIONS),
        ("B25", DataCategory.INFECTIONS),
        ("C16.9", DataCategory.DIAGNOSES),
        ("O09", DataCategory.DIAGNOSES),
        ("E11", DataCategory.DIAGNOSES),
    ],
)
def test_a_condition_is_placed_by_its_icd10_range(code: str, category: DataCategory) -> None:
    assert classify(condition(code)).category == category


def test_the_japanese_icd10_system_counts_as_icd10() -> None:
    jp = "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/ICD10-2013-full"
    assert classify(condition("F200", jp)).category == DataCategory.SENSITIVE_DIAGNOSES


def test_a_condition_coded_only_in_medis_is_a_diagnosis() -> None:
    medis = "http://medis.or.jp/CodeSystem/master-disease-keyNumber"
    assert classify(condition("20061593", medis)).category == DataCategory.DIAGNOSES


@pytest.mark.parametrize(
    ("resource", "category"),
    [
        (observation("genetics", ("http://loinc.org", "69548-6")), DataCategory.GENOMICS),
        (observation("laboratory", ("http://loinc.org", "81247-9")), DataCategory.GENOMICS),
        (observation("laboratory", ("http://loinc.org", "94500-6")), DataCategory.INFECTIONS),
        (observation("laboratory", ("http://loinc.org", "75622-1")), DataCategory.SENSITIVE_DIAGNOSES),
        (
            observation("laboratory", ("http://medis.or.jp/CodeSystem/master-JLAC10-17digits", "6B010000001999999")),
            DataCategory.INFECTIONS,
        ),
        (observation("laboratory", ("http://loinc.org", "2345-7")), DataCategory.LAB_RESULTS),
        (observation("vital-signs", ("http://loinc.org", "8867-4")), DataCategory.VITAL_SIGNS),
        (observation(None, ("http://loinc.org", "8480-6")), DataCategory.VITAL_SIGNS),
        (observation("imaging"), DataCategory.IMAGING),
        (observation("activity", ("http://loinc.org", "41950-7")), DataCategory.LIFELOG),
        (observation("survey", ("http://loinc.org", "44249-1")), None),
        (observation("social-history"), None),
    ],
)
def test_an_observation_is_placed_by_its_category_and_code(resource: dict[str, Any], category: object) -> None:
    assert classify(resource).category == category


@pytest.mark.parametrize(
    ("resource", "category"),
    [
        ({"resourceType": "MolecularSequence"}, DataCategory.GENOMICS),
        ({"resourceType": "Immunization"}, DataCategory.IMMUNIZATIONS),
        ({"resourceType": "Procedure"}, DataCategory.PROCEDURES),
        ({"resourceType": "ImagingStudy"}, DataCategory.IMAGING),
        ({"resourceType": "MedicationDispense"}, DataCategory.PRESCRIPTIONS),
        ({"resourceType": "MedicationStatement"}, DataCategory.PRESCRIPTIONS),
        ({"resourceType": "DiagnosticReport", "category": [{"coding": [{"code": "RAD"}]}]}, DataCategory.IMAGING),
        ({"resourceType": "DiagnosticReport", "category": [{"coding": [{"code": "GE"}]}]}, DataCategory.GENOMICS),
        ({"resourceType": "DiagnosticReport", "category": [{"coding": [{"code": "MB"}]}]}, DataCategory.INFECTIONS),
        ({"resourceType": "DiagnosticReport"}, DataCategory.LAB_RESULTS),
        (
            {
                "resourceType": "DocumentReference",
                "type": {"coding": [{"system": "http://loinc.org", "code": "18842-5"}]},
            },
            DataCategory.DOCUMENTS,
        ),
        (
            {"resourceType": "Composition", "type": {"coding": [{"system": "http://loinc.org", "code": "53576-5"}]}},
            DataCategory.DOCUMENTS,
        ),
        (
            {
                "resourceType": "DocumentReference",
                "type": {"coding": [{"system": "http://loinc.org", "code": "51969-4"}]},
            },
            DataCategory.GENOMICS,
        ),
        (
            {"resourceType": "AllergyIntolerance", "category": ["medication"]},
            DataCategory.DRUG_CONTRAINDICATIONS,
        ),
        ({"resourceType": "AllergyIntolerance", "category": ["food"]}, DataCategory.ALLERGIES),
    ],
)
def test_other_types_are_placed_by_the_documented_rules(resource: dict[str, Any], category: DataCategory) -> None:
    assert classify(resource).category == category


@pytest.mark.parametrize("resource_type", ["Patient", "Practitioner", "Organization", "Medication", "Specimen"])
def test_supporting_resources_have_no_category(resource_type: str) -> None:
    result = classify({"resourceType": resource_type})
    assert result.supporting
    assert result.category is None


def test_an_unrecognised_clinical_resource_has_no_category_but_is_clinical() -> None:
    result = classify({"resourceType": "FamilyMemberHistory"})
    assert not result.supporting
    assert result.category is None
