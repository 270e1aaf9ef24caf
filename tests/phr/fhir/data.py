"""Test records for the sekmet server: carebundle's synthetic US Core bundles, given fixed ids and the
hospital's patient number, plus resources outside the patient compartment that a pull must resolve."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from carebundle import generate_bundle


@dataclass(frozen=True)
class LoadedPatient:
    patient_id: str
    resource_ids: dict[str, set[str]]

    @property
    def count(self) -> int:
        return sum(len(ids) for ids in self.resource_ids.values())


def patient_transaction(
    *, profile: str, seed: int, patient_system: str, patient_number: str, tag: str
) -> tuple[dict[str, Any], LoadedPatient]:
    """A transaction that PUTs one synthetic patient's bundle with stable ids, and what it holds."""
    generated = json.loads(generate_bundle(profile=profile, seed=seed).model_dump_json(exclude_none=True))
    entries: list[dict[str, Any]] = []
    ids: dict[str, set[str]] = {}
    patient_id = ""
    for entry in generated["entry"]:
        resource = entry["resource"]
        rtype = resource["resourceType"]
        rid = f"{tag}-{entry['fullUrl'].rsplit(':', 1)[-1][:8]}-{len(entries)}"
        resource["id"] = rid
        if rtype == "Patient":
            patient_id = rid
            resource["identifier"] = [{"system": patient_system, "value": patient_number}]
        entries.append(
            {"fullUrl": entry["fullUrl"], "resource": resource, "request": {"method": "PUT", "url": f"{rtype}/{rid}"}}
        )
        ids.setdefault(rtype, set()).add(rid)
    for resource in outside_compartment(patient_id, tag):
        rtype, rid = resource["resourceType"], resource["id"]
        entries.append({"resource": resource, "request": {"method": "PUT", "url": f"{rtype}/{rid}"}})
        ids.setdefault(rtype, set()).add(rid)
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
    return bundle, LoadedPatient(patient_id=patient_id, resource_ids=ids)


def outside_compartment(patient_id: str, tag: str) -> list[dict[str, Any]]:
    """An Organization, a Medication and a Binary, each referenced only from the patient's records."""
    organisation = {"resourceType": "Organization", "id": f"{tag}-org", "name": "東都大学病院"}
    medication = {
        "resourceType": "Medication",
        "id": f"{tag}-med",
        "code": {
            "coding": [
                {"system": "urn:oid:1.2.392.200119.4.403.1", "code": "103835401", "display": "ムコダイン錠２５０ｍｇ"}
            ]
        },
    }
    binary = {
        "resourceType": "Binary",
        "id": f"{tag}-bin",
        "contentType": "text/plain",
        "data": base64.b64encode("紹介状 (synthetic)".encode()).decode(),
    }
    document = {
        "resourceType": "DocumentReference",
        "id": f"{tag}-doc",
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "57133-1", "display": "Referral note"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "custodian": {"reference": f"Organization/{tag}-org"},
        "date": "2026-01-05T09:00:00+09:00",
        "content": [{"attachment": {"contentType": "text/plain", "url": f"Binary/{tag}-bin"}}],
    }
    request = {
        "resourceType": "MedicationRequest",
        "id": f"{tag}-medreq",
        "status": "active",
        "intent": "order",
        "medicationReference": {"reference": f"Medication/{tag}-med"},
        "subject": {"reference": f"Patient/{patient_id}"},
        "authoredOn": "2026-01-05",
    }
    return [organisation, medication, binary, document, request]
