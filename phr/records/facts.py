"""The clear facts an index row keeps about a resource: its status, when it happened, its encounter.

FHIR dates may be partial (``2018``, ``2022-05``): the index takes the first day they cover. A date
without a time is placed at midnight in Mamori's time zone (Asia/Tokyo in Japan) for ``effective_at``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

# Elements, in order of preference, that say when a resource of each type happened.
WHEN: dict[str, tuple[str, ...]] = {
    "AllergyIntolerance": ("onsetDateTime", "onsetPeriod.start", "recordedDate"),
    "CarePlan": ("period.start", "created"),
    "Composition": ("date",),
    "Condition": ("onsetDateTime", "onsetPeriod.start", "recordedDate"),
    "DiagnosticReport": ("effectiveDateTime", "effectivePeriod.start", "issued"),
    "DocumentReference": ("context.period.start", "date"),
    "Encounter": ("period.start",),
    "ImagingStudy": ("started",),
    "Immunization": ("occurrenceDateTime", "recorded"),
    "MedicationAdministration": ("effectiveDateTime", "effectivePeriod.start"),
    "MedicationDispense": ("whenHandedOver", "whenPrepared"),
    "MedicationRequest": ("authoredOn",),
    "MedicationStatement": ("effectiveDateTime", "effectivePeriod.start", "dateAsserted"),
    "Observation": ("effectiveDateTime", "effectivePeriod.start", "effectiveInstant", "issued"),
    "Procedure": ("performedDateTime", "performedPeriod.start"),
    "Specimen": ("collection.collectedDateTime", "receivedTime"),
}
STATUS_CONCEPTS = ("clinicalStatus",)
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True, slots=True)
class When:
    at: datetime | None
    day: date | None


NEVER = When(at=None, day=None)


def _path(resource: dict[str, Any], dotted: str) -> Any:
    value: Any = resource
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


@lru_cache(maxsize=4)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse_fhir_datetime(value: str) -> When:
    """A FHIR date, dateTime or instant; partial dates start at their first day. Unreadable → NEVER."""
    zone = _zone(settings.TIME_ZONE)
    match = _DATE.match(value)
    if match:
        year, month, day = int(match.group(1)), int(match.group(2) or 1), int(match.group(3) or 1)
        try:
            day_value = date(year, month, day)
        except ValueError:
            return NEVER
        return When(at=datetime.combine(day_value, time.min, tzinfo=zone), day=day_value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return NEVER
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return When(at=moment, day=moment.astimezone(zone).date())


def effective(resource: dict[str, Any]) -> When:
    for dotted in WHEN.get(resource.get("resourceType", ""), ()):
        value = _path(resource, dotted)
        if isinstance(value, str):
            found = parse_fhir_datetime(value)
            if found.at is not None:
                return found
    return NEVER


def status(resource: dict[str, Any]) -> str:
    value = resource.get("status")
    if isinstance(value, str):
        return value[:64]
    for element in STATUS_CONCEPTS:
        concept = resource.get(element)
        if isinstance(concept, dict):
            for coding in concept.get("coding") or ():
                if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                    return str(coding["code"])[:64]
    return ""


def encounter_reference(resource: dict[str, Any]) -> str:
    encounter = resource.get("encounter") or _path(resource, "context.encounter")
    if isinstance(encounter, list):
        encounter = encounter[0] if encounter else None
    if isinstance(encounter, dict) and isinstance(encounter.get("reference"), str):
        return encounter["reference"][:255]
    return ""
