"""Which data category (DESIGN.md §3) a resource belongs to, decided from the resource alone.

Decisions beyond the table in DESIGN.md, written down so reviewers can disagree with them:

- Supporting resources (Patient, Practitioner, Organization, Medication, Specimen, Location, …) hold no
  clinical fact on their own: their index row has role ``supporting`` and no category. They are still
  encrypted with the person's key and deleted with the person's records.
- A clinical resource no rule recognises keeps role ``clinical`` and no category: it is shown to the
  person but no category-based permit can ever cover it (the consent engine denies unknown categories).
- Conditions: any ICD-10 coding in a sensitive block makes the condition ``sensitive_diagnoses``; else
  A00–B99 makes it ``infections``; else ``diagnoses``. A condition coded only in MEDIS disease codes
  cannot be placed in an ICD-10 range here and is a ``diagnoses`` entry.
- Observations: category ``genetics`` (or HL7 v2 ``GE``) or a genetic-report LOINC → ``genomics``;
  HIV and syphilis tests → ``sensitive_diagnoses`` (their result tells what B20–B24 and A50–A64
  protect); other infection tests (JLAC10 microbiology ``6…`` and infection serology ``5E``/``5F``,
  listed LOINC codes) → ``infections``; ``laboratory`` → ``lab_results``; ``vital-signs`` and ``exam``
  (physical findings) → ``vital_signs``; ``imaging`` → ``imaging``; ``procedure`` → ``procedures``;
  ``activity`` → ``lifelog``; ``social-history``, ``survey``, ``therapy`` → no category.
- Composition / DocumentReference: the three documents → ``documents``; a plan-of-care document →
  ``care_plans``; genetic reports → ``genomics``; imaging reports → ``imaging``; other notes → no category.
- DiagnosticReport: imaging service sections → ``imaging``; genetics → ``genomics``; microbiology →
  ``infections``; otherwise ``lab_results``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phr.categories import DataCategory, is_infection_icd10, is_sensitive_icd10
from phr.records import codes

SUPPORTING_TYPES = frozenset(
    {
        "Patient",
        "Practitioner",
        "PractitionerRole",
        "RelatedPerson",
        "Organization",
        "Location",
        "HealthcareService",
        "Endpoint",
        "Medication",
        "Substance",
        "Device",
        "Specimen",
        "Coverage",
        "Provenance",
        "Binary",
        "Group",
    }
)

DIRECT: dict[str, DataCategory] = {
    "MedicationRequest": DataCategory.PRESCRIPTIONS,
    "MedicationStatement": DataCategory.PRESCRIPTIONS,
    "MedicationDispense": DataCategory.PRESCRIPTIONS,
    "MedicationAdministration": DataCategory.PRESCRIPTIONS,
    "Immunization": DataCategory.IMMUNIZATIONS,
    "ImmunizationRecommendation": DataCategory.IMMUNIZATIONS,
    "Procedure": DataCategory.PROCEDURES,
    "Encounter": DataCategory.ENCOUNTERS,
    "EpisodeOfCare": DataCategory.ENCOUNTERS,
    "ImagingStudy": DataCategory.IMAGING,
    "CarePlan": DataCategory.CARE_PLANS,
    "CareTeam": DataCategory.CARE_PLANS,
    "Goal": DataCategory.CARE_PLANS,
    "MolecularSequence": DataCategory.GENOMICS,
}

THREE_DOCUMENTS = frozenset({"57133-1", "18842-5", "53576-5"})
PLAN_OF_CARE_DOCUMENTS = frozenset({"56447-6", "18776-5"})
GENETIC_REPORT_LOINC = frozenset({"51969-4", "81247-9", "69548-6", "53037-8", "48018-6", "81252-9", "51958-7"})
IMAGING_REPORT_LOINC = frozenset({"18748-4", "18782-3", "18747-6", "85430-7"})
VITAL_SIGN_LOINC = frozenset(
    {"85353-1", "8867-4", "8480-6", "8462-4", "85354-9", "29463-7", "8302-2", "39156-5", "8310-5", "9279-1", "2708-6"}
    | {"59408-5", "9843-4", "8287-5"}
)
# HIV (antibody/antigen, viral load) and syphilis (TP, RPR, VDRL) tests.
SENSITIVE_TEST_LOINC = frozenset(
    {"75622-1", "7917-8", "68961-2", "56888-1", "25835-0", "20447-9", "5221-7", "20507-0", "5292-8", "22462-6"}
    | {"31147-2", "47236-5"}
)
INFECTION_TEST_LOINC = frozenset(
    {"94500-6", "94309-2", "94558-4", "95209-3", "92142-9", "80382-5", "80383-3", "5196-1", "16128-1"}
    | {"13955-0", "22327-1", "16933-4", "11259-9", "600-7", "630-4", "634-6", "11475-1", "38375-2"}
)
IMAGING_SECTIONS = frozenset({"RAD", "CT", "MR", "US", "NMR", "NMS", "RX", "VUS", "OUS", "CUS", "XRC", "CTH"})


@dataclass(frozen=True, slots=True)
class Classification:
    supporting: bool
    category: DataCategory | None


SUPPORTING = Classification(supporting=True, category=None)
UNCLASSIFIED = Classification(supporting=False, category=None)


def classify(resource: dict[str, Any]) -> Classification:
    resource_type = resource.get("resourceType", "")
    if resource_type in SUPPORTING_TYPES:
        return SUPPORTING
    if resource_type in DIRECT:
        return Classification(supporting=False, category=DIRECT[resource_type])
    rule = _RULES.get(resource_type)
    category = rule(resource) if rule else None
    return Classification(supporting=False, category=category)


def _category_codes(resource: dict[str, Any]) -> set[str]:
    return {str(c.get("code")) for c in codes.codings(resource.get("category")) if c.get("code")}


def _allergy(resource: dict[str, Any]) -> DataCategory:
    categories = resource.get("category") or []
    drug_coded = codes.codes_in(codes.codings(resource.get("code")), codes.YJ_SYSTEMS | codes.HOT_SYSTEMS)
    if "medication" in categories or drug_coded:
        return DataCategory.DRUG_CONTRAINDICATIONS
    return DataCategory.ALLERGIES


def _by_icd10(icd10: list[str], default: DataCategory) -> DataCategory:
    if any(is_sensitive_icd10(code) for code in icd10):
        return DataCategory.SENSITIVE_DIAGNOSES
    if any(is_infection_icd10(code) for code in icd10):
        return DataCategory.INFECTIONS
    return default


def _condition(resource: dict[str, Any]) -> DataCategory:
    return _by_icd10(codes.codes_in(codes.codings(resource.get("code")), codes.ICD10_SYSTEMS), DataCategory.DIAGNOSES)


def _is_infection_jlac10(code: str) -> bool:
    return code[:1] == "6" or code[:2] in ("5E", "5F")


def _observation(resource: dict[str, Any]) -> DataCategory | None:
    categories = _category_codes(resource)
    concepts = codes.codings(resource.get("code"))
    loinc = set(codes.codes_in(concepts, frozenset({codes.LOINC})))
    jlac = codes.codes_in(concepts, codes.JLAC_SYSTEMS)
    if "genetics" in categories or "GE" in categories or loinc & GENETIC_REPORT_LOINC:
        return DataCategory.GENOMICS
    if loinc & SENSITIVE_TEST_LOINC:
        return DataCategory.SENSITIVE_DIAGNOSES
    if loinc & INFECTION_TEST_LOINC or any(_is_infection_jlac10(code) for code in jlac):
        return DataCategory.INFECTIONS
    if "laboratory" in categories:
        return DataCategory.LAB_RESULTS
    if {"vital-signs", "exam"} & categories or loinc & VITAL_SIGN_LOINC:
        return DataCategory.VITAL_SIGNS
    if "imaging" in categories:
        return DataCategory.IMAGING
    if "procedure" in categories:
        return DataCategory.PROCEDURES
    if "activity" in categories:
        return DataCategory.LIFELOG
    if jlac:
        return DataCategory.LAB_RESULTS
    return None


def _document(resource: dict[str, Any]) -> DataCategory | None:
    type_codes = set(codes.codes_in(codes.codings(resource.get("type")), codes.JP_DOCUMENT_TYPE_SYSTEMS))
    if type_codes & THREE_DOCUMENTS:
        return DataCategory.DOCUMENTS
    if type_codes & PLAN_OF_CARE_DOCUMENTS:
        return DataCategory.CARE_PLANS
    if type_codes & GENETIC_REPORT_LOINC:
        return DataCategory.GENOMICS
    if type_codes & IMAGING_REPORT_LOINC:
        return DataCategory.IMAGING
    return None


def _diagnostic_report(resource: dict[str, Any]) -> DataCategory:
    sections = _category_codes(resource)
    loinc = set(codes.codes_in(codes.codings(resource.get("code")), frozenset({codes.LOINC})))
    if sections & {"GE", "genetics"} or loinc & GENETIC_REPORT_LOINC:
        return DataCategory.GENOMICS
    if sections & IMAGING_SECTIONS or "imaging" in sections or loinc & IMAGING_REPORT_LOINC:
        return DataCategory.IMAGING
    if loinc & SENSITIVE_TEST_LOINC:
        return DataCategory.SENSITIVE_DIAGNOSES
    if "MB" in sections or loinc & INFECTION_TEST_LOINC:
        return DataCategory.INFECTIONS
    return DataCategory.LAB_RESULTS


_RULES = {
    "AllergyIntolerance": _allergy,
    "Condition": _condition,
    "Observation": _observation,
    "Composition": _document,
    "DocumentReference": _document,
    "DiagnosticReport": _diagnostic_report,
}
