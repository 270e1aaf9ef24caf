"""Lab results grouped by test: the latest of each test, and one test's history with units, ranges and flags.

A test is a code digest, or a concept of ``lab_codes`` when the code is listed there (so a JLAC10 result
and a LOINC result of the same test are one group). A flag is the result's interpretation when it gives
one (H, L, HH, LL, A…), else computed from its reference range.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

from phr.categories import DataCategory
from phr.models import Person
from phr.records.lab_codes import concept_by_digest, digests_of
from phr.records.reading import ENTRY_FIELDS, Decryptor, Entry, entries, index_of, newest, with_raw

SCAN_LIMIT = 2000
SCAN_CHUNK = 250
UNCODED = "r-"  # the key of a result without a code: its own resource id
HISTORY_LIMIT = 200
FLAG_LABELS = {"H": _("High"), "L": _("Low"), "HH": _("Critically high"), "LL": _("Critically low"), "A": _("Abnormal")}


@dataclass
class LabValue:
    """One result of a test as shown: value, unit, range and flag."""

    entry: Entry
    value: Decimal | None
    text: str
    unit: str
    low: Decimal | None
    high: Decimal | None
    range_text: str
    flag: str

    @property
    def flag_label(self) -> str:
        return str(FLAG_LABELS.get(self.flag, self.flag))

    @property
    def at(self) -> datetime | None:
        return self.entry.effective_at


@dataclass
class LabGroup:
    """A test: its key for the URL, its name, and its results (the newest first)."""

    key: str
    name: str
    values: list[LabValue]

    @property
    def latest(self) -> LabValue:
        return self.values[0]


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _interpretation(resource: dict[str, Any]) -> str:
    for concept in resource.get("interpretation") or ():
        for coding in concept.get("coding") or () if isinstance(concept, dict) else ():
            code = coding.get("code") if isinstance(coding, dict) else None
            if isinstance(code, str) and code.upper() in {"H", "L", "HH", "LL", "A", "AA", "HU", "LU"}:
                return {"HU": "HH", "LU": "LL", "AA": "A"}.get(code.upper(), code.upper())
    return ""


def lab_value(entry: Entry) -> LabValue:
    resource = entry.raw
    quantity = _mapping(resource.get("valueQuantity"))
    value = _decimal(quantity.get("value"))
    unit = str(quantity.get("unit") or quantity.get("code") or "")
    text = ""
    if value is None:
        for key in ("valueString", "valueInteger"):
            if key in resource:
                text = str(resource[key])
        concept = resource.get("valueCodeableConcept")
        if isinstance(concept, dict):
            text = str(concept.get("text") or next((c.get("display", "") for c in concept.get("coding", [])), ""))
    low = high = None
    range_text = ""
    ranges = resource.get("referenceRange") or []
    if ranges and isinstance(ranges[0], dict):
        first = ranges[0]
        low = _decimal((first.get("low") or {}).get("value"))
        high = _decimal((first.get("high") or {}).get("value"))
        range_text = str(first.get("text") or "")
        if not range_text and (low is not None or high is not None):
            range_text = f"{'' if low is None else low}–{'' if high is None else high}"
    flag = _interpretation(resource)
    if not flag and value is not None:
        if high is not None and value > high:
            flag = "H"
        elif low is not None and value < low:
            flag = "L"
    return LabValue(
        entry=entry, value=value, text=text, unit=unit, low=low, high=high, range_text=range_text, flag=flag
    )


def _lab_rows(person: Person) -> Any:
    return index_of(person).filter(category=DataCategory.LAB_RESULTS, resource_type="Observation")


def latest_labs(person: Person, *, decryptor: Decryptor | None = None, limit: int | None = None) -> list[LabGroup]:
    """The latest result of each test, newest test first (a bounded scan of recent results)."""
    decryptor = decryptor or Decryptor(person)
    seen: dict[str, tuple[str, Any]] = {}
    concepts = concept_by_digest()
    for start in range(0, SCAN_LIMIT, SCAN_CHUNK):
        chunk = newest(_lab_rows(person), ("resource_id", "code_digest"), start, SCAN_CHUNK)
        for pk, digest in chunk:
            key = (concepts.get(digest) or digest) if digest else f"{UNCODED}{pk}"
            seen.setdefault(key, (str(pk), digest))
            if limit is not None and len(seen) >= limit:
                break
        if len(chunk) < SCAN_CHUNK or (limit is not None and len(seen) >= limit):
            break
    if not seen:
        return []
    chosen = {pk for pk, _digest in seen.values()}
    listed = with_raw(
        decryptor, entries(decryptor, _lab_rows(person).filter(resource_id__in=chosen).values_list(*ENTRY_FIELDS))
    )
    by_pk = {entry.id: entry for entry in listed}
    return [
        LabGroup(key=key, name=by_pk[pk].display, values=[lab_value(by_pk[pk])])
        for key, (pk, _digest) in seen.items()
        if pk in by_pk
    ]


def lab_history(person: Person, key: str) -> LabGroup | None:
    """A test's results (up to ``HISTORY_LIMIT``, newest first), found by its group key."""
    if key.startswith(UNCODED):
        try:
            rows = _lab_rows(person).filter(resource_id=uuid.UUID(key.removeprefix(UNCODED)))
        except ValueError:
            return None
    else:
        rows = _lab_rows(person).filter(code_digest__in=digests_of(key) or [key])
    decryptor = Decryptor(person)
    listed = with_raw(decryptor, entries(decryptor, newest(rows, ENTRY_FIELDS, 0, HISTORY_LIMIT)))
    if not listed:
        return None
    name = next((entry.display for entry in listed if entry.display), "")
    return LabGroup(key=key, name=name, values=[lab_value(entry) for entry in listed])
