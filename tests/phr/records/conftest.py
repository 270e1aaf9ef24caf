"""Helpers for records-in tests: reading stored resources back, ingesting bytes, the JP Core fixtures."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

from phr.crypto.datakeys import decrypt
from phr.models import FhirResource, Person
from phr.records.reader import read_upload
from phr.records.report import IngestReport
from phr.records.services import ingest, raw_context, upload_source_key

# The 61 JP Core examples, kept in the repository so a clone needs nothing beside it.
JP_CORE = Path(__file__).resolve().parents[2] / "fixtures" / "jp-core"
NUMBER = "\u2063num\u2063"
PATIENT = {"resourceType": "Patient", "id": "p1", "name": [{"family": "佐藤"}]}


def raw_of(row: FhirResource) -> bytes:
    return decrypt(bytes(row.raw_encrypted), context=raw_context(row.id))


def ingest_bytes(person: Person, data: bytes, *, source_key: str | None = None, **kwargs: Any) -> IngestReport:
    return ingest(
        person=person,
        source_key=source_key or upload_source_key(person),
        entries=read_upload(io.BytesIO(data)),
        **kwargs,
    )


def observation(resource_id: str, *, value: str = "5.0", patient: str = "Patient/p1", **extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": resource_id,
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}]},
        "subject": {"reference": patient},
        "effectiveDateTime": "2026-04-01T09:30:00+09:00",
        "valueQuantity": {"value": f"{NUMBER}{value}{NUMBER}", "unit": "mmol/L"},
    }
    resource.update(extra)
    return resource


def to_json(value: Any) -> bytes:
    """JSON text in which ``NUMBER…NUMBER`` strings become numbers written exactly as given."""
    text = json.dumps(value, ensure_ascii=False)
    return re.sub(f'"{NUMBER}([-0-9.eE+]+){NUMBER}"', r"\1", text).encode()


def bundle(*resources: dict[str, Any], bundle_type: str = "collection") -> bytes:
    return to_json({"resourceType": "Bundle", "type": bundle_type, "entry": [{"resource": r} for r in resources]})
