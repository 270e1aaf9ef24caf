"""The Celery task that seals new audit events into their hash chain (scheduled every minute)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError


@shared_task(
    name="phr.seal_audit_events", queue="default", acks_late=True, autoretry_for=(OperationalError,), max_retries=3
)
def seal_audit_events_task() -> int:
    """Seal the audit events written since the last run; running it twice seals nothing twice."""
    from phr.audit_chain import seal_audit_events

    return seal_audit_events()
