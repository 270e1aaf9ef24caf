"""Celery tasks of background exports: ids in, one service call, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from phr.records import export_jobs


@shared_task(name="phr.build_export", queue="bulk", acks_late=True, reject_on_worker_lost=True)
def build_export_task(job_id: str) -> str | None:
    job = export_jobs.build_export(job_id)
    return job.status if job is not None else None


@shared_task(name="phr.resume_stalled_exports", queue="default", acks_late=True)
def resume_stalled_exports_task() -> int:
    return len(export_jobs.resume_stalled())


@shared_task(name="phr.purge_expired_exports", queue="default", acks_late=True)
def purge_expired_exports_task() -> int:
    return export_jobs.purge_expired()
