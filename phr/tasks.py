"""Celery tasks of phr: thin wrappers that take ids and call one service."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError, connection

from phr.notices.tasks import mail_person_notice  # noqa: F401  (registers the notice mail task)
from phr.records.export_tasks import build_export_task  # noqa: F401  (registers the export tasks with the worker)
from phr.records.tasks import process_upload_task  # noqa: F401  (registers records-in tasks with the worker)
from phr.tlog.tasks import integrate_logs_task  # noqa: F401  (registers the log integrator)


@shared_task(name="phr.ping", queue="default", acks_late=True)
def ping() -> dict[str, str]:
    """Health task: proves a worker is consuming and can reach the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"status": "ok"}


@shared_task(
    name="phr.sync_connection",
    queue="sync",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def sync_connection(connection_id: str, run_id: str | None = None) -> str | None:
    """Pull one connection's records (a queued run, or a new one). A second delivery of the same run is a no-op."""
    from phr.fhir.sync import run_sync

    run = run_sync(connection_id, run_id)
    return None if run is None else run.status


@shared_task(name="phr.refresh_connections", queue="default", acks_late=True)
def refresh_connections() -> int:
    """The scheduled refresh: queue a sync for each active connection not synced in the last day."""
    from phr.fhir.services import request_due_refreshes

    return request_due_refreshes()
