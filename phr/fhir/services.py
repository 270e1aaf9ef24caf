"""Writes to connections and sync runs: link a patient number, ask for a sync, schedule refreshes."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from phr import roles
from phr import services as party_services
from phr.crypto.blind_index import blind_index, normalise_identifier_value
from phr.errors import PartyError
from phr.fhir import tokens
from phr.models import Connection, FhirEndpoint, Person, SyncRun, User
from phr.models.fhir import AuthMode, ConnectionKind, ConnectionStatus
from phr.models.records import SyncRunKind, SyncRunStatus

# A queued run whose task never arrived (a broker that lost it) stops blocking new requests after this.
QUEUED_STALE_AFTER = timedelta(hours=1)
REFRESH_EVERY = timedelta(hours=24)


class ConnectionNotAllowed(PartyError):
    """A connection cannot be made or used as asked; the message is safe to show."""


@transaction.atomic
def link_hospital_patient(
    *, person: Person, endpoint: FhirEndpoint, patient_number: str, actor: User | None
) -> Connection:
    """An operator links the person's patient number at a hospital: Mamori then pulls with a system token.

    The actor must be allowed to link this hospital's patients (phr.roles); None is the system (seed data)."""
    if actor is not None:
        roles.require(actor, roles.Action.LINK_PATIENT, organisation=endpoint.organisation)
    system = endpoint.organisation.patient_number_system
    if not system:
        raise ConnectionNotAllowed(_("This hospital has no patient-number system."))
    if endpoint.auth_mode == AuthMode.SMART_PATIENT:
        raise ConnectionNotAllowed(_("This endpoint only accepts connections the person authorises."))
    value = normalise_identifier_value(patient_number)
    existing = person.identifiers.filter(system=system).first()
    if existing is None:
        party_services.link_identifier(person=person, system=system, value=value, actor=actor)
    elif existing.blind_index != blind_index(system, value):
        raise ConnectionNotAllowed(_("The person already has a different patient number at this hospital."))
    connection, created = Connection.objects.select_for_update().get_or_create(
        person=person, endpoint=endpoint, defaults={"kind": ConnectionKind.HOSPITAL_AUTHORISED}
    )
    if not created:
        connection.kind = ConnectionKind.HOSPITAL_AUTHORISED
        connection.status = ConnectionStatus.ACTIVE
        connection.patient_id_encrypted = None
        connection.save(update_fields=["kind", "status", "patient_id_encrypted", *tokens.clear_tokens(connection)])
    party_services.record_audit(
        actor=actor,
        person=person,
        action="fhir.connection.linked_by_hospital",
        connection=str(connection.id),
        endpoint=str(endpoint.id),
    )
    return connection


@transaction.atomic
def request_sync(*, connection: Connection, actor: User | None) -> SyncRun:
    """Queue a sync ("sync now", or the scheduled refresh); a run already queued or running is returned."""
    from phr.tasks import sync_connection

    locked = Connection.objects.select_for_update().get(pk=connection.pk)
    if locked.status != ConnectionStatus.ACTIVE:
        raise ConnectionNotAllowed(_("This connection needs to be reconnected before it can sync."))
    now = timezone.now()
    SyncRun.objects.filter(
        connection=locked, status=SyncRunStatus.QUEUED, created_at__lt=now - QUEUED_STALE_AFTER
    ).update(status=SyncRunStatus.FAILED, finished_at=now, error="never started: the queued task was lost")
    pending = (
        SyncRun.objects.filter(connection=locked, status__in=[SyncRunStatus.QUEUED, SyncRunStatus.RUNNING])
        .order_by("-created_at")
        .first()
    )
    if pending is not None:
        return pending
    run = SyncRun.objects.create(
        person_id=locked.person_id, connection=locked, kind=SyncRunKind.SYNC, status=SyncRunStatus.QUEUED
    )
    party_services.record_audit(
        actor=actor,
        person=locked.person,
        action="fhir.sync.requested",
        connection=str(locked.id),
        run=str(run.id),
    )
    connection_id, run_id = str(locked.id), str(run.id)
    transaction.on_commit(lambda: sync_connection.delay(connection_id, run_id))
    return run


def request_due_refreshes(*, every: timedelta = REFRESH_EVERY) -> int:
    """Queue a sync for each active connection with no run in the last ``every``; returns how many."""
    recent = SyncRun.objects.filter(connection=OuterRef("pk"), created_at__gte=timezone.now() - every)
    due = Connection.objects.filter(status=ConnectionStatus.ACTIVE).exclude(Exists(recent))
    count = 0
    for connection in due.iterator():
        request_sync(connection=connection, actor=None)
        count += 1
    return count


@transaction.atomic
def revoke_connection(*, connection: Connection, actor: User) -> Connection:
    """The person stops a connection: its tokens are deleted; records already pulled stay until deleted."""
    locked = Connection.objects.select_for_update().get(pk=connection.pk)
    locked.status = ConnectionStatus.REVOKED
    locked.save(update_fields=["status", *tokens.clear_tokens(locked)])
    party_services.record_audit(
        actor=actor, person=locked.person, action="fhir.connection.revoked", connection=str(locked.id)
    )
    return locked
