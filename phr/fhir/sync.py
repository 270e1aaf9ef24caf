"""A sync run: one pull of a connection's records, handed to ingest in one transaction at the end.

Only one run per connection runs at a time (the connection row is locked while a run is claimed). Fetched
entries stay in memory until every request has succeeded, so a failure mid-pull stores nothing: the run is
marked failed with a short error, and the next run starts from the last successful one.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from django.db import transaction
from django.utils import timezone

from phr.crypto.datakeys import decrypt
from phr.fhir import backend_services, discovery, fetch, smart_launch, tokens
from phr.fhir.errors import AuthorisationFailed, FhirClientError
from phr.fhir.http import DEFAULT_TIMEOUT, FhirHttp
from phr.fhir.retry import RetryPolicy
from phr.fhir.scopes import REFERENCED_RESOURCE_TYPES
from phr.models import Connection, FhirEndpoint, FhirResource, SyncRun
from phr.models.fhir import AuthMode, ConnectionKind, ConnectionStatus
from phr.models.records import SyncRunKind, SyncRunStatus
from phr.records.services import ingest
from phr.services import identifier_context

logger = logging.getLogger(__name__)

# A run still "running" after this long was abandoned by a worker that died; it no longer blocks the next.
STALE_AFTER = timedelta(hours=1)
ERROR_MAX = 500


@dataclass(frozen=True)
class SyncOptions:
    """Knobs a caller may turn: the page size of searches, the retry policy and the HTTP timeouts."""

    page_size: int = fetch.PAGE_SIZE
    policy: RetryPolicy | None = None
    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)


def claim(connection_id: uuid.UUID | str, run_id: uuid.UUID | str | None = None) -> SyncRun | None:
    """Mark a run running for this connection, or None when it must not run now (another one runs, it is
    already finished, or the connection is not active). Safe to call twice with the same run."""
    now = timezone.now()
    with transaction.atomic():
        connection = Connection.objects.select_for_update().filter(pk=connection_id).first()
        if connection is None:
            return None
        SyncRun.objects.filter(
            connection=connection, status=SyncRunStatus.RUNNING, started_at__lt=now - STALE_AFTER
        ).update(status=SyncRunStatus.FAILED, finished_at=now, error="abandoned: the worker stopped")
        run = None
        if run_id is not None:
            run = SyncRun.objects.filter(pk=run_id, connection=connection).first()
            if run is None or run.status != SyncRunStatus.QUEUED:
                return None
        if connection.status != ConnectionStatus.ACTIVE:
            if run is not None:
                _finish_failed(run, "the connection is not active", now=now)
            return None
        if SyncRun.objects.filter(connection=connection, status=SyncRunStatus.RUNNING).exists():
            if run is not None:
                _finish_failed(run, "another sync of this connection was running", now=now)
            return None
        if run is None:
            run = SyncRun(person_id=connection.person_id, connection=connection, kind=SyncRunKind.SYNC)
        run.status = SyncRunStatus.RUNNING
        run.started_at = now
        run.incremental_since = connection.last_success_started_at
        run.save()
    return run


def _finish_failed(run: SyncRun, error: str, *, now: datetime | None = None, requests: int | None = None) -> None:
    run.status = SyncRunStatus.FAILED
    run.finished_at = now or timezone.now()
    run.error = error[:ERROR_MAX]
    fields = ["status", "finished_at", "error"]
    if requests is not None:
        run.requests_made = requests
        fields.append("requests_made")
    run.save(update_fields=fields)


class _Authoriser:
    """Bearer tokens for one run: the person's (patient-authorised) or the system's (hospital-authorised)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.endpoint = connection.endpoint
        self.http: FhirHttp | None = None
        self._token: str | None = None

    def bearer(self) -> str | None:
        if self.endpoint.auth_mode == AuthMode.NONE:
            return None
        if self._token is None:
            self._token = self._obtain(renew=False)
        return self._token

    def renew(self) -> None:
        if self.endpoint.auth_mode != AuthMode.NONE:
            self._token = self._obtain(renew=True)

    def _obtain(self, *, renew: bool) -> str:
        if self.connection.kind == ConnectionKind.PATIENT_AUTHORISED:
            if not renew and tokens.access_token_is_fresh(self.connection):
                token = tokens.unseal(self.connection, tokens.ACCESS_TOKEN)
                if token:
                    return token
            return smart_launch.refresh(self.connection)
        if self.endpoint.auth_mode != AuthMode.BACKEND_SERVICES:
            raise AuthorisationFailed("a hospital-authorised connection needs a Backend Services endpoint")
        assert self.http is not None
        return backend_services.system_token(self.endpoint, http=self.http, renew=renew)


def _patient_id(connection: Connection, http: FhirHttp) -> str:
    """The patient's id at the endpoint; found once from their patient number, then kept encrypted."""
    known = tokens.patient_id(connection)
    if known:
        return known
    system = connection.endpoint.organisation.patient_number_system
    identifier = connection.person.identifiers.filter(system=system).first() if system else None
    if identifier is None:
        raise FhirClientError("the person has no patient number at this hospital")
    value = decrypt(bytes(identifier.value_encrypted), context=identifier_context(identifier.id)).decode("utf-8")
    bundle = http.get_json("Patient", params={"identifier": f"{system}|{value}", "_elements": "id"})
    ids = [
        e["resource"]["id"]
        for e in bundle.get("entry") or []
        if isinstance(e, dict) and (e.get("resource") or {}).get("resourceType") == "Patient"
    ]
    if len(ids) != 1:
        raise FhirClientError(f"the patient number matched {len(ids)} patients at the hospital")
    with transaction.atomic():
        locked = Connection.objects.select_for_update().select_related("person").get(pk=connection.pk)
        tokens.set_patient_id(locked, ids[0])
        locked.save(update_fields=["patient_id_encrypted"])
    connection.patient_id_encrypted = locked.patient_id_encrypted
    return str(ids[0])


def _pull(connection: Connection, run: SyncRun, http: FhirHttp, options: SyncOptions) -> tuple[str, fetch.Collected]:
    endpoint: FhirEndpoint = discovery.refresh_capabilities(connection.endpoint, http=http)
    patient_id = _patient_id(connection, http)
    collected = fetch.Collected()
    if run.incremental_since is None and endpoint.supports_everything:
        fetch.everything(http, patient_id, collected)
    else:
        fetch.search_each_type(
            http,
            patient_id,
            discovery.searchable_types(endpoint),
            collected,
            since=run.incremental_since,
            page_size=options.page_size,
        )
    fetch.resolve_references(http, collected, known=_stored_references(connection))
    return patient_id, collected


def _stored_references(connection: Connection) -> set[fetch.Key]:
    """Referenced resources an earlier run already stored for this person from this endpoint."""
    rows = FhirResource.objects.filter(
        person_id=connection.person_id,
        source_key=connection.endpoint.base_url,
        resource_type__in=REFERENCED_RESOURCE_TYPES,
    ).values_list("resource_type", "resource_id")
    return {(rtype, rid) for rtype, rid in rows}


def perform(run: SyncRun, *, options: SyncOptions | None = None) -> SyncRun:
    """Pull and ingest for a claimed run; returns it succeeded or failed (failures are recorded, not raised)."""
    options = options or SyncOptions()
    assert run.connection_id is not None, "a sync run always has a connection"
    connection = Connection.objects.select_related("endpoint__organisation", "person").get(pk=run.connection_id)
    authoriser = _Authoriser(connection)
    http = FhirHttp(
        base_url=connection.endpoint.base_url,
        policy=options.policy,
        timeout=options.timeout,
        bearer=authoriser.bearer,
        on_unauthorised=authoriser.renew,
    )
    authoriser.http = http
    try:
        with http:
            patient_id, collected = _pull(connection, run, http, options)
        _store(run, connection, patient_id, collected, requests=http.requests_made)
    except AuthorisationFailed as exc:
        _finish_failed(run, f"authorisation failed: {exc}", requests=http.requests_made)
    except FhirClientError as exc:
        _finish_failed(run, str(exc), requests=http.requests_made)
    except Exception as exc:
        # The type only: a message or traceback could carry a URL with a patient id, or a record's content.
        logger.error("sync run failed unexpectedly", extra={"run": str(run.id), "error_type": type(exc).__name__})
        _finish_failed(run, f"internal error ({type(exc).__name__})", requests=http.requests_made)
    return run


@transaction.atomic
def _store(run: SyncRun, connection: Connection, patient_id: str, collected: fetch.Collected, *, requests: int) -> None:
    endpoint = connection.endpoint
    ingest(
        person=connection.person,
        source_key=endpoint.base_url,
        entries=collected.entries(),
        connection=connection,
        run=run,
        expected_patient_ref=f"Patient/{patient_id}",
        source_organisation=endpoint.organisation,
    )
    run.skipped_count += len(collected.unresolved)
    run.requests_made = requests
    run.status = SyncRunStatus.SUCCEEDED
    run.finished_at = timezone.now()
    run.error = ""
    run.save(update_fields=["skipped_count", "requests_made", "status", "finished_at", "error"])
    Connection.objects.filter(pk=connection.pk).update(last_success_started_at=run.started_at)


def run_sync(
    connection_id: uuid.UUID | str, run_id: uuid.UUID | str | None = None, *, options: SyncOptions | None = None
) -> SyncRun | None:
    """Claim and perform a run; None when this connection must not sync now."""
    run = claim(connection_id, run_id)
    if run is None:
        return None
    return perform(run, options=options)
