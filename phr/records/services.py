"""Storing FHIR resources: ``ingest`` validates, classifies, encrypts, dedupes and indexes a stream of entries.

Uploads (``phr.records.uploads``) and the hospital sync (``phr.fhir``) both end here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from phr.models import Connection, FhirResource, Organisation, Person, ResourceIndex
from phr.models.records import SyncRun
from phr.records.json_text import dumps
from phr.records.patient import PatientMatcher, PersonCheck
from phr.records.reader import RawEntry, bundle_entry
from phr.records.report import MAX_LISTED, IngestReport
from phr.records.store import (
    BATCH_SIZE,
    Ingestion,
    code_context,
    display_context,
    raw_context,
    version_context,
)

__all__ = [
    "BATCH_SIZE",
    "as_raw_entry",
    "code_context",
    "display_context",
    "ingest",
    "mark_deleted_at_source",
    "raw_context",
    "upload_source_key",
    "version_context",
]


@transaction.atomic
def ingest(
    *,
    person: Person,
    source_key: str,
    entries: Iterable[RawEntry | dict[str, Any]],
    connection: Connection | None = None,
    run: SyncRun | None = None,
    expected_patient_ref: str | None = None,
    source_organisation: Organisation | None = None,
    check_person: bool = False,
) -> IngestReport:
    """Store a stream of FHIR resources for ``person``, all or nothing, and say what happened.

    - ``source_key``: where the resources come from; dedupe is on person + source_key + type + id. Use
      the endpoint's base URL for a sync and ``upload_source_key(person)`` for uploads.
    - ``entries``: ``RawEntry`` values, e.g. from ``phr.records.reader.read_bundle_bytes`` (a page of a
      search), ``read_ndjson`` or ``read_upload``; or Bundle entry dicts (``{"fullUrl", "resource"}``) or
      bare resource dicts, written back with ``json_text.dumps`` (parse them with ``reader.loads`` so
      decimals stay exact). Read lazily, in batches of ``BATCH_SIZE``.
    - ``expected_patient_ref``: the connection's patient (``Patient/123`` or an absolute URL). Any
      resource about someone else is rejected. Without it the first patient met pins the rest.
    - ``connection``, ``source_organisation``: recorded on the rows and index rows.
    - ``check_person``: for uploads, the Patient in the input must be ``person`` (``patient.PersonCheck``):
      a clear mismatch raises ``PatientIsSomeoneElse`` and stores nothing; doubts become report warnings.
    - ``run``: its counts and its rejected and skipped entries grow by this call's (so one run may call
      ``ingest`` once per page); its status is the caller's to set.

    A resource is *created* the first time; *unchanged* when its raw bytes digest the same; otherwise
    *updated*: the previous version moves to ``FhirResourceVersion`` and the index row is rebuilt. An
    entry that fails validation, names another patient or has no usable id is *rejected*; unknown types
    and entries without a resource are *skipped*. Neither affects the other entries. Errors that make
    the whole input unreadable (``MalformedUpload`` from the reader) propagate and roll everything back.
    Queries are per batch of ``BATCH_SIZE`` (a lookup, bulk inserts or one COPY), never per resource.
    """
    person_check = PersonCheck(person) if check_person else None
    work = Ingestion(
        person=person,
        source_key=source_key,
        connection=connection,
        matcher=PatientMatcher(expected_patient_ref),
        source_organisation=source_organisation,
        person_check=person_check,
    )
    for entry in entries:
        work.add(entry if isinstance(entry, RawEntry) else as_raw_entry(entry))
    work.flush()
    report = work.report
    if person_check is not None:
        person_check.finish()
        report.warnings.extend(person_check.warnings)
    if run is not None:
        _add_to_run(run, report)
    return report


@transaction.atomic
def mark_deleted_at_source(
    *,
    person: Person,
    source_key: str,
    served: set[tuple[str, str]],
    resource_types: Collection[str] | None = None,
    except_types: Collection[str] = (),
) -> int:
    """After a full pull: mark what the source no longer serves as deleted there, and say how many.

    Only resources of ``resource_types`` (every type when None) other than ``except_types`` are
    considered, as only those were pulled in full. A marked resource keeps its row and its versions
    (the person's copy of what they received) but loses its index row, so the record views no longer
    list it; if the source serves it again, ingest stores it as a new version and indexes it again.
    """
    candidates = FhirResource.objects.filter(
        person=person, source_key=source_key, deleted_at_source__isnull=True
    ).exclude(resource_type__in=list(except_types))
    if resource_types is not None:
        candidates = candidates.filter(resource_type__in=list(resource_types))
    gone = [
        pk
        for pk, resource_type, resource_id in candidates.values_list("pk", "resource_type", "resource_id")
        if (resource_type, resource_id) not in served
    ]
    now = timezone.now()
    for start in range(0, len(gone), BATCH_SIZE):
        chunk = gone[start : start + BATCH_SIZE]
        ResourceIndex.objects.filter(resource_id__in=chunk).delete()
        FhirResource.objects.filter(pk__in=chunk).update(deleted_at_source=now)
    return len(gone)


def as_raw_entry(item: dict[str, Any]) -> RawEntry:
    """A RawEntry for an already parsed Bundle entry or resource."""
    if "resourceType" not in item and ("resource" in item or "fullUrl" in item):
        entries = list(bundle_entry(item, position=""))
        return entries[0] if entries else RawEntry(raw=b"", resource=None, problem=_("The entry is empty."), skip=True)
    return RawEntry(raw=dumps(item), resource=item)


def upload_source_key(person: Person) -> str:
    return f"upload:{person.id}"


def _add_to_run(run: SyncRun, report: IngestReport) -> None:
    run.created_count += report.created
    run.updated_count += report.updated
    run.unchanged_count += report.unchanged
    run.rejected_count += report.rejected
    run.skipped_count += report.skipped
    run.rejected_entries = [*run.rejected_entries, *report.rejected_entries][:MAX_LISTED]
    run.skipped_entries = [*run.skipped_entries, *report.skipped_entries][:MAX_LISTED]
    run.warnings = [*run.warnings, *(warning for warning in report.warnings if warning not in run.warnings)]
    run.save(
        update_fields=[
            "created_count",
            "updated_count",
            "unchanged_count",
            "rejected_count",
            "skipped_count",
            "rejected_entries",
            "skipped_entries",
            "warnings",
        ]
    )
