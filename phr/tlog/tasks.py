"""The beat task that integrates the tamper-evident logs and signs their checkpoints (every 2 seconds)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from phr.tlog.integrate import integrate_all


@shared_task(
    name="phr.integrate_logs", queue="default", acks_late=True, autoretry_for=(OperationalError,), max_retries=3
)
def integrate_logs_task() -> int:
    """Integrate what was queued since the last run; running it twice integrates nothing twice."""
    return sum(done.added for done in integrate_all())
