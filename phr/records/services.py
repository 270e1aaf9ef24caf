"""Storing FHIR resources: ``ingest`` validates, classifies, encrypts, dedupes and indexes a stream of entries.

Uploads (``phr.records.uploads``) and the hospital sync (``phr.fhir``) both end here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from phr.models import Connection, Organisation, Person
from phr.models.records import SyncRun
from phr.records.json_text import dumps
from phr.records.patient import PatientMatcher
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
    - ``run``: its counts and its rejected and skipped entries grow by this call's (so one run may call
      ``ingest`` once per page); its status is the caller's to set.

    A resource is *created* the first time; *unchanged* when its raw bytes digest the same; otherwise
    *updated*: the previous version moves to ``FhirResourceVersion`` and the index row is rebuilt. An
    entry that fails validation, names another patient or has no usable id is *rejected*; unknown types
    and entries without a resource are *skipped*. Neither affects the other entries. Errors that make
    the whole input unreadable (``MalformedUpload`` from the reader) propagate and roll everything back.
    Queries are per batch of ``BATCH_SIZE`` (a lookup, bulk inserts or one COPY), never per resource.
    """
    work = Ingestion(
        person=person,
        source_key=source_key,
        connection=connection,
        matcher=PatientMatcher(expected_patient_ref),
        source_organisation=source_organisation,
    )
    for entry in entries:
        work.add(entry if isinstance(entry, RawEntry) else as_raw_entry(entry))
    work.flush()
    report = work.report
    if run is not None:
        _add_to_run(run, report)
    return report


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
    run.save(
        update_fields=[
            "created_count",
            "updated_count",
            "unchanged_count",
            "rejected_count",
            "skipped_count",
            "rejected_entries",
            "skipped_entries",
        ]
    )
