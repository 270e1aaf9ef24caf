"""A sync run: one pull of a connection's records, handed to ingest in one transaction at the end.

Only one run per connection runs at a time (the connection row is locked while a run is claimed). Fetched
pages are spooled to an encrypted private file as they arrive (``phr.fhir.spool``, deleted when the run
ends) and ingested from it only once every request has succeeded, so a failure mid-pull stores nothing:
the run is marked failed with a short error, and the next run starts from the last successful one.

Runs are incremental (``_lastUpdated=gt…``) except the first and one every ``FULL_SYNC_EVERY``. A full
run is what finds deletions at the hospital: a resource stored from this endpoint that the full pull no
longer returns is marked deleted at source (``phr.records.services.mark_deleted_at_source``). Incremental
runs cannot see deletions: FHIR R4 has no ``_history`` for one patient's compartment, and the type-level
``<Type>/_history`` that servers such as sekmet-fhir offer lists every patient's changes, which a
person's sync must not read.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from django.db import transaction
from django.utils import timezone

from phr.crypto.datakeys import decrypt
from phr.fhir import backend_services, discovery, fetch, smart_launch, tokens
from phr.fhir.errors import AuthorisationFailed, FhirClientError
from phr.fhir.http import FhirHttp
from phr.fhir.retry import RetryPolicy
from phr.fhir.scopes import REFERENCED_RESOURCE_TYPES
from phr.models import Connection, FhirEndpoint, FhirResource, SyncRun
from phr.models.fhir import AuthMode, ConnectionKind, ConnectionStatus
from phr.models.records import SyncRunKind, SyncRunStatus
from phr.records.services import ingest, mark_deleted_at_source
from phr.services import identifier_context

logger = logging.getLogger(__name__)

# A run still "running" after this long was abandoned by a worker that died; it no longer blocks the next.
STALE_AFTER = timedelta(hours=1)
ERROR_MAX = 500
# How often a connection's run is a full pull (which finds what the hospital deleted) rather than incremental.
FULL_SYNC_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class SyncOptions:
    """Knobs a caller may turn: the page size of searches, the retry policy and the HTTP timeouts (the
    outbound policy's settings when None)."""

    page_size: int = fetch.PAGE_SIZE
    policy: RetryPolicy | None = None
    timeout: httpx.Timeout | None = None


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
        run.incremental_since = None if needs_full_sync(connection, now=now) else connection.last_success_started_at
        run.save()
    return run


def needs_full_sync(connection: Connection, *, now: datetime) -> bool:
    last_full = connection.last_full_sync_started_at
    return last_full is None or now - last_full >= FULL_SYNC_EVERY


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


@dataclass
class _Pull:
    """What one run fetched, and which resource types it covered in full (None: every type, $everything)."""

    patient_id: str
    collected: fetch.Collected
    searched_types: list[str] | None


def _pull(
    connection: Connection, run: SyncRun, http: FhirHttp, options: SyncOptions, collected: fetch.Collected
) -> _Pull:
    endpoint: FhirEndpoint = discovery.refresh_capabilities(connection.endpoint, http=http)
    patient_id = _patient_id(connection, http)
    searched_types: list[str] | None = None
    if run.incremental_since is None and endpoint.supports_everything:
        fetch.everything(http, patient_id, collected)
    else:
        searched_types = discovery.searchable_types(endpoint)
        fetch.search_each_type(
            http,
            patient_id,
            searched_types,
            collected,
            since=run.incremental_since,
            page_size=options.page_size,
        )
    fetch.resolve_references(http, collected, known=_stored_references(connection))
    return _Pull(patient_id=patient_id, collected=collected, searched_types=searched_types)


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
        with fetch.Collected(base_url=http.base_url) as collected:
            with http:
                pull = _pull(connection, run, http, options, collected)
            _store(run, connection, pull, requests=http.requests_made)
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
def _store(run: SyncRun, connection: Connection, pull: _Pull, *, requests: int) -> None:
    endpoint = connection.endpoint
    collected = pull.collected
    ingest(
        person=connection.person,
        source_key=endpoint.base_url,
        entries=collected.entries(),
        connection=connection,
        run=run,
        expected_patient_ref=f"Patient/{pull.patient_id}",
        source_organisation=endpoint.organisation,
    )
    full = run.incremental_since is None
    served = collected.keys()
    # An entry that could not be read may be a resource still served: deletions wait for a clean full pull.
    # A full pull that served no record but the Patient is more likely a fault at the hospital (a patient id
    # mapped wrongly, an empty replica) than every record withdrawn: it marks nothing, and says so in the log.
    served_any = any(
        resource_type != "Patient"
        and resource_type not in REFERENCED_RESOURCE_TYPES
        and (pull.searched_types is None or resource_type in pull.searched_types)
        for resource_type, _id in served
    )
    if full and not collected.has_unreadable and not served_any:
        logger.warning("sync run %s: a full pull served no records; nothing is marked deleted at source", run.pk)
    elif full and not collected.has_unreadable:
        run.deleted_count = mark_deleted_at_source(
            person=connection.person,
            source_key=endpoint.base_url,
            served=served,
            resource_types=pull.searched_types,
            except_types=REFERENCED_RESOURCE_TYPES,
        )
    run.skipped_count += len(collected.unresolved)
    run.requests_made = requests
    run.status = SyncRunStatus.SUCCEEDED
    run.finished_at = timezone.now()
    run.error = ""
    run.save(update_fields=["skipped_count", "deleted_count", "requests_made", "status", "finished_at", "error"])
    done: dict[str, datetime | None] = {"last_success_started_at": run.started_at}
    if full:
        done["last_full_sync_started_at"] = run.started_at
    Connection.objects.filter(pk=connection.pk).update(**done)


def run_sync(
    connection_id: uuid.UUID | str, run_id: uuid.UUID | str | None = None, *, options: SyncOptions | None = None
) -> SyncRun | None:
    """Claim and perform a run; None when this connection must not sync now."""
    run = claim(connection_id, run_id)
    if run is None:
        return None
    return perform(run, options=options)
