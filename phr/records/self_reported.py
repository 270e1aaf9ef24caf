"""Self-reported data: a person's own measurements (weight, blood pressure, steps) stored as Observations.

They go through ``ingest`` like any other resource (validated, encrypted, indexed), under the person's own
source key, with the person as subject and performer, and are then marked ``self_reported`` on the row
and its index row, so every page can badge them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from phr.models import FhirResource, Person, ResourceIndex, User
from phr.records.json_text import dumps
from phr.records.reader import RawEntry
from phr.records.services import ingest
from phr.services import record_audit

CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


@dataclass(frozen=True)
class Measure:
    """A kind of measurement a person may enter."""

    key: str
    label: Any
    category: str
    loinc: str
    display: str
    unit: str


WEIGHT = Measure("weight", _("Body weight"), "vital-signs", "29463-7", "Body weight", "kg")
BLOOD_PRESSURE = Measure("blood_pressure", _("Blood pressure"), "vital-signs", "85354-9", "Blood pressure", "mm[Hg]")
STEPS = Measure("steps", _("Steps in a day"), "activity", "55423-8", "Number of steps", "/d")
MEASURES = {measure.key: measure for measure in (WEIGHT, BLOOD_PRESSURE, STEPS)}


def self_source_key(person: Person) -> str:
    return f"self:{person.id}"


def _quantity(value: Decimal, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _concept(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display}


def observation_for(
    person: Person, *, measure: Measure, at: datetime, value: Decimal, second: Decimal | None = None
) -> dict[str, Any]:
    """The Observation for one entry; blood pressure has systolic ``value`` and diastolic ``second``."""
    patient = {"reference": f"Patient/{person.pk}"}
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(uuid.uuid4()),
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": measure.category}]}],
        "code": _concept(measure.loinc, measure.display),
        "subject": patient,
        "performer": [patient],
        "effectiveDateTime": at.isoformat(),
    }
    if measure is BLOOD_PRESSURE:
        resource["component"] = [
            {"code": _concept("8480-6", "Systolic blood pressure"), "valueQuantity": _quantity(value, "mm[Hg]")},
            {
                "code": _concept("8462-4", "Diastolic blood pressure"),
                "valueQuantity": _quantity(second if second is not None else Decimal(0), "mm[Hg]"),
            },
        ]
    else:
        resource["valueQuantity"] = _quantity(value, measure.unit)
    return resource


@transaction.atomic
def record_measurement(
    *,
    person: Person,
    actor: User,
    measure: Measure,
    at: datetime,
    value: Decimal,
    second: Decimal | None = None,
) -> FhirResource:
    """Store one self-reported measurement for ``person`` and mark it self-reported."""
    resource = observation_for(person, measure=measure, at=at, value=value, second=second)
    report = ingest(
        person=person,
        source_key=self_source_key(person),
        entries=[RawEntry(raw=dumps(resource), resource=resource)],
        expected_patient_ref=f"Patient/{person.pk}",
    )
    if report.rejected:
        raise ValueError(f"a self-reported {measure.key} was refused: {report.rejected_entries}")
    stored = FhirResource.objects.get(
        person=person, source_key=self_source_key(person), resource_type="Observation", resource_id=resource["id"]
    )
    FhirResource.objects.filter(pk=stored.pk).update(self_reported=True)
    ResourceIndex.objects.filter(resource=stored).update(self_reported=True)
    record_audit(actor=actor, person=person, action="records.self_reported", measure=measure.key)
    stored.self_reported = True
    return stored
