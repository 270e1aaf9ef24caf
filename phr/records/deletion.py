"""Deleting a person's records: one connection's (or the uploads'), or all of them, with every version.

What is deleted: stored resources, their earlier versions, their index rows, and the lists of refused
entries in the matching runs' reports. What stays: the runs' counts, the connection itself (stopping it
is ``phr.fhir``'s), and a ``RecordDeletion`` plus an audit event saying who deleted how much — no
health data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from phr.models import (
    Connection,
    FhirResource,
    FhirResourceVersion,
    Person,
    RecordDeletion,
    ResourceIndex,
    SyncRun,
    User,
)
from phr.models.records import SyncRunKind
from phr.records.export_jobs import discard_exports_of
from phr.records.services import upload_source_key
from phr.services import record_audit

ALL = "all"
UPLOADS = "uploads"


@dataclass(frozen=True)
class DeletionScope:
    """Which of a person's records to delete: ``all``, ``uploads``, or one connection."""

    key: str
    connection: Connection | None = None

    def resources(self, person: Person) -> Q:
        if self.key == ALL:
            return Q(person=person)
        if self.key == UPLOADS:
            return Q(person=person, source_key=upload_source_key(person))
        assert self.connection is not None
        return Q(person=person) & (Q(connection=self.connection) | Q(source_key=self.connection.endpoint.base_url))

    def runs(self, person: Person) -> Q:
        if self.key == ALL:
            return Q(person=person)
        if self.key == UPLOADS:
            return Q(person=person, kind=SyncRunKind.UPLOAD)
        return Q(person=person, connection=self.connection)


def scope_for(person: Person, key: str) -> DeletionScope | None:
    """The scope named by ``key`` (``all``, ``uploads`` or one of the person's connection ids), or None."""
    if key in (ALL, UPLOADS):
        return DeletionScope(key=key)
    connection_id = _uuid_or_none(key)
    if connection_id is None:
        return None
    connection = Connection.objects.select_related("endpoint").filter(person=person, pk=connection_id).first()
    return DeletionScope(key=str(connection.id), connection=connection) if connection else None


def _uuid_or_none(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


@transaction.atomic
def delete_records(*, person: Person, scope: DeletionScope, actor: User | None) -> RecordDeletion:
    """Delete the records in ``scope`` for good and record that it happened (counts only)."""
    resources = FhirResource.objects.filter(scope.resources(person))
    resource_ids = resources.values("id")
    versions_deleted, _by_model = FhirResourceVersion.objects.filter(resource__in=resource_ids).delete()
    ResourceIndex.objects.filter(resource__in=resource_ids).delete()
    resources_deleted, _by_model = resources.only("id").delete()
    SyncRun.objects.filter(scope.runs(person)).update(rejected_entries=[], skipped_entries=[])
    exports_discarded = discard_exports_of(person)
    deletion = RecordDeletion.objects.create(
        actor=actor,
        person=person,
        scope=scope.key,
        resources_deleted=resources_deleted,
        versions_deleted=versions_deleted,
    )
    record_audit(
        actor=actor,
        person=person,
        action="records.deleted",
        scope=scope.key,
        resources=resources_deleted,
        versions=versions_deleted,
        exports=exports_discarded,
    )
    return deletion
