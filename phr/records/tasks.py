"""Celery tasks of records in: ids in, one service call."""

from __future__ import annotations

from celery import shared_task

from phr.records import uploads


@shared_task(name="phr.records.process_upload", queue="sync", acks_late=True)
def process_upload_task(run_id: str) -> str | None:
    run = uploads.process_upload(run_id=run_id)
    return run.status if run is not None else None
