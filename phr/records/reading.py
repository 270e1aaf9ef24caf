"""Reads for records out: the records dashboard and the timeline, decrypting a page at a time.

Everything is listed from the clear index (``ResourceIndex``); only the rows on screen are decrypted,
in bulk, with the person's data key unwrapped once (``Decryptor``). Raw JSON is opened only where the
index does not say enough (a lab value, a reference range, a document's sections).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from phr.categories import DataCategory
from phr.crypto.datakeys import decrypt, unwrap
from phr.crypto.envelope import open_sealed, token_key_id
from phr.fhir.selectors import ConnectionRow, connections_of
from phr.models import Connection, DataKey, FhirResource, Person, ResourceIndex, SyncRun
from phr.models.records import ResourceRole
from phr.records.services import display_context, raw_context, upload_source_key

PAGE_SIZE = 50
ACTIVE_CONDITION = ("active", "recurrence", "relapse", "")
INACTIVE_ALLERGY = ("inactive", "resolved", "entered-in-error")
CURRENT_PRESCRIPTION = ("active", "on-hold", "intended", "")
CONDITION_CATEGORIES = (DataCategory.DIAGNOSES, DataCategory.INFECTIONS, DataCategory.SENSITIVE_DIAGNOSES)
ALLERGY_CATEGORIES = (DataCategory.ALLERGIES, DataCategory.DRUG_CONTRAINDICATIONS)
SELF_SOURCE = "self"
UPLOAD_SOURCE = "uploads"


class Decryptor:
    """Opens a person's tokens with their data key unwrapped once; a token under another key (after a
    rotation) falls back to ``decrypt``, which looks its key up."""

    def __init__(self, person: Person) -> None:
        data_key = DataKey.objects.filter(person=person).first()
        self._key_id = data_key.id.bytes if data_key is not None else b""
        self._key = unwrap(data_key) if data_key is not None else b""

    def open(self, token: bytes | memoryview | None, context: str) -> bytes | None:
        if token is None:
            return None
        token = bytes(token)
        if self._key and token_key_id(token) == self._key_id:
            return open_sealed(token, key=self._key, context=context)
        return decrypt(token, context=context)

    def text(self, token: bytes | memoryview | None, context: str) -> str:
        plain = self.open(token, context)
        return plain.decode() if plain is not None else ""

    def resources(self, resource_ids: Iterable[object]) -> dict[str, dict[str, Any]]:
        """The raw JSON of these resources, parsed, in one query."""
        rows = FhirResource.objects.filter(pk__in=list(resource_ids)).values_list("pk", "raw_encrypted")
        found: dict[str, dict[str, Any]] = {}
        for pk, token in rows:
            raw = self.open(token, raw_context(pk))
            if raw is not None:
                found[str(pk)] = json.loads(raw)
        return found


@dataclass
class Entry:
    """One record as listed: what the index says plus its decrypted display name."""

    id: str
    resource_type: str
    category: str
    status: str
    effective_at: datetime | None
    effective_date: date | None
    display: str
    code_system: str
    code_digest: str
    encounter_ref: str
    self_reported: bool
    source: str
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def category_label(self) -> str:
        return str(DataCategory(self.category).label) if self.category else ""


ENTRY_FIELDS = (
    "resource_id",
    "resource_type",
    "category",
    "status",
    "effective_at",
    "effective_date",
    "display_encrypted",
    "code_system",
    "code_digest",
    "encounter_ref",
    "self_reported",
    "source_organisation__name",
)


def index_of(person: Person) -> QuerySet[ResourceIndex]:
    return ResourceIndex.objects.filter(person=person)


def newest(rows: QuerySet[ResourceIndex], fields: Sequence[str], start: int, count: int) -> list[tuple[Any, ...]]:
    """``count`` rows from ``start``, newest first, undated rows last.

    Dated and undated rows are read apart so that each read follows an index on (person[, category],
    -effective_at): one ``ORDER BY … DESC NULLS LAST`` would not match PostgreSQL's descending index
    (nulls first) and would sort every row of the person's record.
    """
    dated = rows.filter(effective_at__isnull=False).order_by("-effective_at", "-resource_id")
    found = list(dated.values_list(*fields)[start : start + count])
    if len(found) == count:
        return found
    dated_total = start + len(found) if found or not start else dated.count()
    undated = rows.filter(effective_at__isnull=True).order_by("-resource_id")
    skip = max(0, start - dated_total)
    return found + list(undated.values_list(*fields)[skip : skip + count - len(found)])


def entries(decryptor: Decryptor, rows: Iterable[Sequence[Any]]) -> list[Entry]:
    """Entries from ``values_list(*ENTRY_FIELDS)`` rows, their displays decrypted."""
    listed = []
    for pk, rtype, category, status, at, day, display, system, digest, encounter, self_reported, source in rows:
        listed.append(
            Entry(
                id=str(pk),
                resource_type=rtype,
                category=category,
                status=status,
                effective_at=at,
                effective_date=day,
                display=decryptor.text(display, display_context(pk)),
                code_system=system,
                code_digest=digest,
                encounter_ref=encounter,
                self_reported=self_reported,
                source=source or "",
            )
        )
    return listed


def with_raw(decryptor: Decryptor, listed: list[Entry]) -> list[Entry]:
    raws = decryptor.resources(entry.id for entry in listed)
    for entry in listed:
        entry.raw = raws.get(entry.id, {})
    return listed


@dataclass
class SyncProblem:
    """What went wrong in a person's latest run, in words: a failure, or resources the store refused."""

    run: SyncRun
    source: str
    reasons: list[str]


@dataclass
class RecordsDashboard:
    conditions: list[Entry]
    allergies: list[Entry]
    prescriptions: list[Entry]
    labs: list[Any]
    documents: list[Entry]
    connections: list[ConnectionRow]
    problem: SyncProblem | None


def _listed(decryptor: Decryptor, rows: QuerySet[ResourceIndex], limit: int) -> list[Entry]:
    return entries(decryptor, newest(rows, ENTRY_FIELDS, 0, limit))


def latest_problem(person: Person) -> SyncProblem | None:
    run = SyncRun.objects.filter(person=person).select_related("connection__endpoint").first()
    if run is None or (not run.error and not run.rejected_count):
        return None
    reasons = [run.error] if run.error else []
    seen: set[str] = set()
    for rejected in run.rejected_entries:
        reason = str(rejected.get("reason", "")) if isinstance(rejected, dict) else ""
        if reason and reason not in seen:
            seen.add(reason)
            reasons.append(reason)
    source = run.connection.endpoint.name if run.connection is not None else ""
    return SyncProblem(run=run, source=source, reasons=reasons[:5])


def records_dashboard(person: Person, *, limit: int = 8) -> RecordsDashboard:
    """The dashboard's sections: a handful of queries whatever the size of the record."""
    from phr.records.labs import latest_labs  # labs builds on this module's readers

    decryptor = Decryptor(person)
    rows = index_of(person)
    return RecordsDashboard(
        conditions=_listed(
            decryptor, rows.filter(category__in=CONDITION_CATEGORIES, status__in=ACTIVE_CONDITION), limit
        ),
        allergies=_listed(
            decryptor, rows.filter(category__in=ALLERGY_CATEGORIES).exclude(status__in=INACTIVE_ALLERGY), limit
        ),
        prescriptions=_listed(
            decryptor,
            rows.filter(category=DataCategory.PRESCRIPTIONS, status__in=CURRENT_PRESCRIPTION),
            limit,
        ),
        labs=latest_labs(person, decryptor=decryptor, limit=limit),
        documents=_listed(decryptor, rows.filter(category=DataCategory.DOCUMENTS), 5),
        connections=connections_of(person),
        problem=latest_problem(person),
    )


@dataclass(frozen=True)
class SourceChoice:
    key: str
    label: str


def source_choices(person: Person) -> list[SourceChoice]:
    choices = [
        SourceChoice(key=str(connection.pk), label=connection.endpoint.name)
        for connection in Connection.objects.filter(person=person).select_related("endpoint").order_by("endpoint__name")
    ]
    return [
        *choices,
        SourceChoice(UPLOAD_SOURCE, _("Files you uploaded")),
        SourceChoice(SELF_SOURCE, _("Entered by you (self-reported)")),
    ]


@dataclass
class TimelinePage:
    """One page of the timeline, grouped by day and then by encounter."""

    days: list[TimelineDay]
    number: int
    has_next: bool


@dataclass
class TimelineVisit:
    encounter: str
    entries: list[Entry]


@dataclass
class TimelineDay:
    day: date | None
    visits: list[TimelineVisit]


def _filtered(person: Person, *, category: str, source: str) -> QuerySet[ResourceIndex]:
    rows = index_of(person).filter(role=ResourceRole.CLINICAL)
    if category:
        rows = rows.filter(category=category)
    if source == SELF_SOURCE:
        rows = rows.filter(self_reported=True)
    elif source == UPLOAD_SOURCE:
        rows = rows.filter(resource__source_key=upload_source_key(person))
    elif source:
        rows = rows.filter(resource__connection_id=source)
    return rows


def timeline(
    person: Person, *, category: str = "", source: str = "", query: str = "", page: int = 1, size: int = PAGE_SIZE
) -> TimelinePage:
    """A page of the person's clinical records, newest first; ``query`` matches display names.

    Display names are encrypted, so a search decrypts names a chunk at a time, newest first, and stops
    once it has the page.
    """
    decryptor = Decryptor(person)
    rows = _filtered(person, category=category, source=source)
    start = (page - 1) * size
    if query:
        listed = _search(decryptor, rows, query.casefold(), start, size + 1)
    else:
        listed = entries(decryptor, newest(rows, ENTRY_FIELDS, start, size + 1))
    has_next = len(listed) > size
    return TimelinePage(days=_group(person, decryptor, listed[:size]), number=page, has_next=has_next)


def _search(decryptor: Decryptor, rows: QuerySet[ResourceIndex], needle: str, skip: int, wanted: int) -> list[Entry]:
    chunk = 1000
    hits: list[Any] = []
    offset = 0
    while len(hits) < skip + wanted:
        batch = newest(rows, ("resource_id", "display_encrypted"), offset, chunk)
        hits.extend(pk for pk, token in batch if needle in decryptor.text(token, display_context(pk)).casefold())
        if len(batch) < chunk:
            break
        offset += chunk
    shown = hits[skip : skip + wanted]
    found = {
        entry.id: entry for entry in entries(decryptor, rows.filter(resource_id__in=shown).values_list(*ENTRY_FIELDS))
    }
    return [found[str(pk)] for pk in shown if str(pk) in found]


def _group(person: Person, decryptor: Decryptor, listed: list[Entry]) -> list[TimelineDay]:
    names = _encounter_names(person, decryptor, {e.encounter_ref for e in listed if e.encounter_ref})
    days: list[TimelineDay] = []
    for entry in listed:
        if not days or days[-1].day != entry.effective_date:
            days.append(TimelineDay(day=entry.effective_date, visits=[]))
        visits = days[-1].visits
        label = names.get(entry.encounter_ref, "") if entry.encounter_ref else ""
        if not visits or visits[-1].encounter != label:
            visits.append(TimelineVisit(encounter=label, entries=[]))
        visits[-1].entries.append(entry)
    return days


def _encounter_names(person: Person, decryptor: Decryptor, refs: set[str]) -> dict[str, str]:
    """A readable name for each referenced Encounter on the page (its type and date), in one query."""
    ids = {ref.rsplit("/", 1)[-1]: ref for ref in refs}
    if not ids:
        return {}
    rows = index_of(person).filter(resource_type="Encounter", resource__resource_id__in=list(ids))
    names: dict[str, str] = {}
    for pk, resource_id, display, day in rows.values_list(
        "resource_id", "resource__resource_id", "display_encrypted", "effective_date"
    ):
        text = decryptor.text(display, display_context(pk))
        names[ids[resource_id]] = f"{text} {day:%Y-%m-%d}".strip() if day else text
    for ref in refs:
        names.setdefault(ref, ref.rsplit("/", 1)[-1])
    return names


def documents_of(person: Person, *, limit: int = 100) -> list[Entry]:
    """The person's documents (Composition, DocumentReference), newest first."""
    return _listed(Decryptor(person), index_of(person).filter(category=DataCategory.DOCUMENTS), limit)


def document_entry(person: Person, resource_pk: str) -> Entry | None:
    """One of the person's documents with its raw JSON; None for a bad id or anyone else's record."""
    try:
        pk = uuid.UUID(resource_pk)
    except ValueError:
        return None
    rows = index_of(person).filter(resource_id=pk, category=DataCategory.DOCUMENTS)
    decryptor = Decryptor(person)
    listed = entries(decryptor, rows.values_list(*ENTRY_FIELDS)[:1])
    return with_raw(decryptor, listed)[0] if listed else None
