"""Code systems used by JP Core and the EHR information-sharing service, and picking a resource's main code.

Preference when a concept carries several codings: ICD-10, then MEDIS disease codes, JLAC10/JLAC11,
LOINC, YJ, HOT, SNOMED CT, then any other coding (local codes last). The display is the chosen
coding's display, else the concept's text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ICD10_SYSTEMS = frozenset(
    {
        "http://hl7.org/fhir/sid/icd-10",
        "http://hl7.org/fhir/sid/icd-10-cm",
        "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/ICD10-2013-full",
        "http://jpfhir.jp/fhir/core/CodeSystem/JP_ICD10_CS",
        "urn:oid:2.16.840.1.113883.6.3",
        "urn:oid:1.2.392.200119.4.101.6",
    }
)
MEDIS_DISEASE_SYSTEMS = frozenset(
    {
        "http://medis.or.jp/CodeSystem/master-disease-keyNumber",
        "http://medis.or.jp/CodeSystem/master-disease-exCode",
        "urn:oid:1.2.392.200119.4.101.2",
    }
)
JLAC_SYSTEMS = frozenset(
    {
        "http://medis.or.jp/CodeSystem/master-JLAC10-17digits",
        "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_CS",
        "http://jpfhir.jp/fhir/core/CodeSystem/JP_ObservationLabResultCode_CS",
        "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/JLAC10",
        "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/JLAC11",
        "urn:oid:1.2.392.200119.4.504",
    }
)
LOINC = "http://loinc.org"
# Document type codes of the EHR information-sharing service: LOINC codes under a JP system URI.
JP_DOCUMENT_TYPE_SYSTEMS = frozenset({LOINC, "http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes"})
YJ_SYSTEMS = frozenset({"http://capstandard.jp/iyaku.info/CodeSystem/YJ-code", "urn:oid:1.2.392.100495.20.1.73"})
HOT_SYSTEMS = frozenset(
    {
        "http://medis.or.jp/CodeSystem/master-HOT9",
        "http://medis.or.jp/CodeSystem/master-HOT7",
        "http://medis.or.jp/CodeSystem/master-HOT13",
        "urn:oid:1.2.392.200119.4.403.1",
    }
)
SNOMED = "http://snomed.info/sct"

_RANKED: tuple[frozenset[str], ...] = (
    ICD10_SYSTEMS,
    MEDIS_DISEASE_SYSTEMS,
    JLAC_SYSTEMS,
    frozenset({LOINC}),
    YJ_SYSTEMS,
    HOT_SYSTEMS,
    frozenset({SNOMED}),
)
_RANK = {system: rank for rank, systems in enumerate(_RANKED) for system in systems}

# The element holding each type's main concept.
CODE_ELEMENTS: dict[str, tuple[str, ...]] = {
    "AllergyIntolerance": ("code",),
    "CarePlan": ("category",),
    "Composition": ("type",),
    "Condition": ("code",),
    "DiagnosticReport": ("code",),
    "DocumentReference": ("type",),
    "Encounter": ("class", "type"),
    "ImagingStudy": ("procedureCode", "modality"),
    "Immunization": ("vaccineCode",),
    "Medication": ("code",),
    "MedicationAdministration": ("medicationCodeableConcept",),
    "MedicationDispense": ("medicationCodeableConcept",),
    "MedicationRequest": ("medicationCodeableConcept",),
    "MedicationStatement": ("medicationCodeableConcept",),
    "Observation": ("code",),
    "Procedure": ("code",),
    "Specimen": ("type",),
}


@dataclass(frozen=True, slots=True)
class Code:
    system: str
    code: str
    display: str


def codings(concept: Any) -> list[dict[str, Any]]:
    """The codings of a CodeableConcept, a Coding, or a list of CodeableConcepts."""
    if isinstance(concept, list):
        return [coding for item in concept for coding in codings(item)]
    if not isinstance(concept, dict):
        return []
    if "coding" in concept:
        return [c for c in concept.get("coding") or () if isinstance(c, dict)]
    if "code" in concept or "system" in concept:
        return [concept]
    return []


def all_codings(resource: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for element in CODE_ELEMENTS.get(resource.get("resourceType", ""), ("code",)):
        found.extend(codings(resource.get(element)))
    return found


def main_code(resource: dict[str, Any]) -> Code | None:
    for element in CODE_ELEMENTS.get(resource.get("resourceType", ""), ("code",)):
        concept = resource.get(element)
        choices = [c for c in codings(concept) if isinstance(c.get("code"), str)]
        if choices:
            best = min(choices, key=lambda c: _RANK.get(str(c.get("system", "")), len(_RANKED)))
            display = best.get("display")
            if not isinstance(display, str) or not display:
                text = concept.get("text") if isinstance(concept, dict) else None
                display = text if isinstance(text, str) else ""
            return Code(system=str(best.get("system") or ""), code=best["code"], display=display)
        text = concept.get("text") if isinstance(concept, dict) else None
        if isinstance(text, str) and text:
            return Code(system="", code="", display=text)
    return None


def codes_in(concepts: list[dict[str, Any]], systems: frozenset[str]) -> list[str]:
    return [str(c["code"]) for c in concepts if c.get("system") in systems and isinstance(c.get("code"), str)]
