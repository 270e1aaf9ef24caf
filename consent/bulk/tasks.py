"""Celery tasks of bulk checks: ids in, one service call, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from consent.bulk import jobs


@shared_task(name="consent.run_bulk_check", queue="bulk", acks_late=True, reject_on_worker_lost=True)
def run_bulk_check_task(job_id: str) -> str | None:
    job = jobs.run_bulk_check(job_id)
    return job.status if job is not None else None


@shared_task(name="consent.resume_stalled_bulk_checks", queue="default", acks_late=True)
def resume_stalled_bulk_checks_task() -> int:
    return len(jobs.resume_stalled())


@shared_task(name="consent.purge_expired_bulk_checks", queue="default", acks_late=True)
def purge_expired_bulk_checks_task() -> int:
    return jobs.purge_expired()
