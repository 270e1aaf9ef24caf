"""Records to read back in portal tests: a small realistic record for a person, ingested like any upload."""

from __future__ import annotations

from typing import Any

from phr.models import Person
from tests.phr.records.conftest import NUMBER, PATIENT, bundle, ingest_bytes, observation

SCRIPT_NARRATIVE = (
    '<div xmlns="http://www.w3.org/1999/xhtml"><p>腹痛精査お願いします。</p>'
    "<script>document.title='pwned';window.__pwned=true</script>"
    '<img src="x" onerror="window.__pwned=true"/><a href="javascript:window.__pwned=true">link</a></div>'
)
SUBJECT = {"reference": "Patient/p1"}


def condition(resource_id: str, *, code: str = "I10", display: str = "本態性高血圧症", status: str = "active") -> dict:
    return {
        "resourceType": "Condition",
        "id": resource_id,
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": status}]
        },
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": code, "display": display}]},
        "subject": SUBJECT,
        "recordedDate": "2026-03-01",
    }


def allergy(resource_id: str, *, display: str, medication: bool = False) -> dict:
    return {
        "resourceType": "AllergyIntolerance",
        "id": resource_id,
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}
            ]
        },
        "category": ["medication" if medication else "food"],
        "code": {"text": display},
        "patient": SUBJECT,
        "recordedDate": "2026-02-01",
    }


def prescription(resource_id: str, *, display: str = "アムロジピン錠5mg") -> dict:
    return {
        "resourceType": "MedicationRequest",
        "id": resource_id,
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": "urn:oid:1.2.392.100495.20.1.73", "code": "2171022F1", "display": display}]
        },
        "subject": SUBJECT,
        "authoredOn": "2026-03-01",
    }


def glucose(resource_id: str, *, value: str, when: str, loinc: bool = True) -> dict:
    code = (
        {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "血糖"}]}
        if loinc
        else {
            "coding": [
                {
                    "system": "http://medis.or.jp/CodeSystem/master-JLAC10-17digits",
                    "code": "3D010000001926101",
                    "display": "血糖",
                }
            ]
        }
    )
    return observation(
        resource_id,
        value=value,
        code=code,
        effectiveDateTime=when,
        valueQuantity={"value": f"{NUMBER}{value}{NUMBER}", "unit": "mg/dL"},
        referenceRange=[{"low": {"value": 70, "unit": "mg/dL"}, "high": {"value": 109, "unit": "mg/dL"}}],
    )


def referral(resource_id: str = "ref1", *, narrative: str = SCRIPT_NARRATIVE) -> dict:
    return {
        "resourceType": "Composition",
        "id": resource_id,
        "status": "final",
        "type": {"coding": [{"system": "http://loinc.org", "code": "57133-1", "display": "診療情報提供書"}]},
        "subject": SUBJECT,
        "date": "2026-03-02T10:00:00+09:00",
        "author": [{"display": "港診療所 田中医師"}],
        "title": "診療情報提供書",
        "section": [
            {
                "title": "紹介目的",
                "text": {"status": "additional", "div": narrative},
            },
            {
                "title": "構造情報",
                "section": [
                    {
                        "title": "現病歴",
                        "text": {
                            "status": "additional",
                            "div": '<div xmlns="http://www.w3.org/1999/xhtml">上腹部痛</div>',
                        },
                    }
                ],
            },
        ],
    }


def seed_record(person: Person, *, extra: tuple[dict[str, Any], ...] = ()) -> None:
    """A person's record: two conditions (one resolved), allergies, a prescription, labs, a referral."""
    report = ingest_bytes(
        person,
        bundle(
            PATIENT,
            condition("c1"),
            condition("c2", code="K29", display="胃炎", status="resolved"),
            allergy("a1", display="そば"),
            allergy("a2", display="ペニシリン", medication=True),
            prescription("m1"),
            glucose("g1", value="98", when="2026-01-10T09:00:00+09:00"),
            glucose("g2", value="131", when="2026-02-10T09:00:00+09:00", loinc=False),
            glucose("g3", value="104", when="2026-03-10T09:00:00+09:00"),
            referral(),
            *extra,
        ),
    )
    assert report.rejected == 0, report.rejected_entries
