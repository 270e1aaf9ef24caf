"""The records summary limited to chosen data categories: what a share link shows and what the print page lists.

The categories are applied to the index query itself, so an entry of a category not chosen is never read,
decrypted or handed to a template, whatever the page asks for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from phr.categories import DataCategory
from phr.models import Person, ResourceIndex
from phr.records.labs import latest_labs
from phr.records.reading import (
    ACTIVE_CONDITION,
    ALLERGY_CATEGORIES,
    CONDITION_CATEGORIES,
    CURRENT_PRESCRIPTION,
    ENTRY_FIELDS,
    INACTIVE_ALLERGY,
    Decryptor,
    Entry,
    entries,
    index_of,
    newest,
)

# What a summary can show, in the order a clinician reads it: allergies first.
SUMMARY_CATEGORIES: tuple[str, ...] = (
    DataCategory.ALLERGIES,
    DataCategory.DRUG_CONTRAINDICATIONS,
    DataCategory.DIAGNOSES,
    DataCategory.INFECTIONS,
    DataCategory.SENSITIVE_DIAGNOSES,
    DataCategory.PRESCRIPTIONS,
    DataCategory.LAB_RESULTS,
    DataCategory.DOCUMENTS,
)


@dataclass
class RecordSummary:
    """The sections of a summary, each empty (and flagged as not shared) when its categories were not chosen."""

    person: Person
    categories: frozenset[str]
    allergies: list[Entry] = field(default_factory=list)
    conditions: list[Entry] = field(default_factory=list)
    prescriptions: list[Entry] = field(default_factory=list)
    labs: list[Any] = field(default_factory=list)
    documents: list[Entry] = field(default_factory=list)

    @property
    def shows_allergies(self) -> bool:
        return bool(self.categories & set(ALLERGY_CATEGORIES))

    @property
    def shows_conditions(self) -> bool:
        return bool(self.categories & set(CONDITION_CATEGORIES))

    @property
    def shows_prescriptions(self) -> bool:
        return DataCategory.PRESCRIPTIONS in self.categories

    @property
    def shows_labs(self) -> bool:
        return DataCategory.LAB_RESULTS in self.categories

    @property
    def shows_documents(self) -> bool:
        return DataCategory.DOCUMENTS in self.categories

    @property
    def category_labels(self) -> list[str]:
        return [str(DataCategory(value).label) for value in SUMMARY_CATEGORIES if value in self.categories]

    @property
    def sources(self) -> list[str]:
        """Where the entries shown came from (hospital names), each once."""
        shown = [*self.allergies, *self.conditions, *self.prescriptions, *self.documents]
        shown += [group.latest.entry for group in self.labs]
        return sorted({entry.source for entry in shown if entry.source})


def _listed(decryptor: Decryptor, rows: QuerySet[ResourceIndex], limit: int) -> list[Entry]:
    return entries(decryptor, newest(rows, ENTRY_FIELDS, 0, limit))


def summary_of(person: Person, categories: Iterable[str], *, limit: int = 20) -> RecordSummary:
    """The summary of ``person`` restricted to ``categories`` (unknown values are ignored: nothing more is shown)."""
    allowed = frozenset(str(value) for value in categories) & frozenset(SUMMARY_CATEGORIES)
    summary = RecordSummary(person=person, categories=allowed)
    if not allowed:
        return summary
    decryptor = Decryptor(person)
    rows = index_of(person).filter(category__in=allowed)
    if summary.shows_allergies:
        allergies = rows.filter(category__in=ALLERGY_CATEGORIES).exclude(status__in=INACTIVE_ALLERGY)
        summary.allergies = _listed(decryptor, allergies, limit)
    if summary.shows_conditions:
        conditions = rows.filter(category__in=CONDITION_CATEGORIES, status__in=ACTIVE_CONDITION)
        summary.conditions = _listed(decryptor, conditions, limit)
    if summary.shows_prescriptions:
        current = rows.filter(category=DataCategory.PRESCRIPTIONS, status__in=CURRENT_PRESCRIPTION)
        summary.prescriptions = _listed(decryptor, current, limit)
    if summary.shows_labs:
        summary.labs = latest_labs(person, decryptor=decryptor, limit=limit)
    if summary.shows_documents:
        summary.documents = _listed(decryptor, rows.filter(category=DataCategory.DOCUMENTS), 5)
    return summary
