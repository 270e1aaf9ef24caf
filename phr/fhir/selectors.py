"""Reads of endpoints, connections and sync runs, for the portal (never tokens or patient ids)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404

from phr import roles
from phr.ids import uuid_or_404
from phr.models import Connection, FhirEndpoint, Organisation, Person, SyncRun, User
from phr.models.fhir import AuthMode, ConnectionStatus
from phr.models.parties import OrganisationKind
from phr.models.records import SyncRunStatus


@dataclass(frozen=True)
class ConnectionRow:
    connection: Connection
    last_run: SyncRun | None
    last_success: SyncRun | None

    @property
    def in_progress(self) -> bool:
        return self.last_run is not None and self.last_run.status in (SyncRunStatus.QUEUED, SyncRunStatus.RUNNING)


def connections_of(person: Person) -> list[ConnectionRow]:
    """The person's connections with their latest run and latest successful run, in three queries."""
    runs = SyncRun.objects.order_by("-created_at")
    connections = (
        Connection.objects.filter(person=person)
        .select_related("endpoint__organisation")
        .prefetch_related(Prefetch("sync_runs", queryset=runs, to_attr="recent_runs"))
        .order_by("endpoint__name")
    )
    rows = []
    for connection in connections:
        recent: list[SyncRun] = getattr(connection, "recent_runs", [])
        last_success = next((r for r in recent if r.status == SyncRunStatus.SUCCEEDED), None)
        rows.append(ConnectionRow(connection, recent[0] if recent else None, last_success))
    return rows


def connectable_endpoints(person: Person) -> QuerySet[FhirEndpoint]:
    """Endpoints the person can authorise themselves and is not yet actively connected to."""
    active = Connection.objects.filter(endpoint=OuterRef("pk"), person=person, status=ConnectionStatus.ACTIVE)
    return (
        FhirEndpoint.objects.filter(auth_mode=AuthMode.SMART_PATIENT)
        .exclude(Exists(active))
        .select_related("organisation")
        .order_by("name")
    )


def hospital_endpoints() -> QuerySet[FhirEndpoint]:
    """Endpoints an operator can link a patient number at (Backend Services or an open local server)."""
    return (
        FhirEndpoint.objects.exclude(auth_mode=AuthMode.SMART_PATIENT)
        .filter(organisation__patient_number_system__isnull=False)
        .select_related("organisation")
        .order_by("name")
    )


def latest_run(connection: Connection) -> SyncRun | None:
    return connection.sync_runs.order_by("-created_at").first()


def endpoints_for_staff(user: User) -> QuerySet[FhirEndpoint]:
    """The endpoints the role policy lets ``user`` manage; PermissionDenied when it lets them manage none."""
    if not roles.can_somewhere(user, roles.Action.MANAGE_ENDPOINTS):
        raise PermissionDenied
    endpoints = FhirEndpoint.objects.select_related("organisation").order_by("organisation__name", "name")
    return roles.restrict(endpoints, user, roles.Action.MANAGE_ENDPOINTS)


def hospitals_for_endpoints(user: User) -> QuerySet[Organisation]:
    """The hospitals ``user`` may add an endpoint to."""
    hospitals = Organisation.objects.filter(kind=OrganisationKind.HOSPITAL).order_by("name")
    return roles.restrict(hospitals, user, roles.Action.MANAGE_ENDPOINTS)


def endpoint_for_staff(user: User, endpoint_id: object) -> FhirEndpoint:
    """Fetch-and-authorise: the endpoint named in a staff URL; 404 when there is none."""
    endpoint = endpoints_for_staff(user).filter(pk=uuid_or_404(endpoint_id)).first()
    if endpoint is None:
        raise Http404
    return endpoint
