"""Reads for records in: the sources a person's records came from, and their upload runs."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from phr.models import Connection, FhirResource, Person, SyncRun
from phr.models.records import SyncRunKind
from phr.records.deletion import ALL, UPLOADS
from phr.records.services import upload_source_key


@dataclass(frozen=True)
class RecordSource:
    """A choice on the deletion page: a connection, the uploads, or everything, with how much it holds."""

    key: str
    label: str
    resources: int


def record_sources(person: Person) -> list[RecordSource]:
    counts = dict(
        FhirResource.objects.filter(person=person)
        .values_list("source_key")
        .annotate(n=Count("id"))
        .values_list("source_key", "n")
    )
    sources = [
        RecordSource(
            key=str(connection.id),
            label=connection.endpoint.name,
            resources=counts.get(connection.endpoint.base_url, 0),
        )
        for connection in Connection.objects.filter(person=person).select_related("endpoint").order_by("endpoint__name")
    ]
    sources.append(
        RecordSource(key=UPLOADS, label=_("Files you uploaded"), resources=counts.get(upload_source_key(person), 0))
    )
    sources.append(RecordSource(key=ALL, label=_("All my records"), resources=sum(counts.values())))
    return sources


def upload_runs(person: Person, limit: int = 10) -> QuerySet[SyncRun]:
    return SyncRun.objects.filter(person=person, kind=SyncRunKind.UPLOAD).order_by("-created_at")[:limit]
