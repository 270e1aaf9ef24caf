"""Celery tasks of the consent app: a few lines each, calling one service."""

from __future__ import annotations

from celery import shared_task

from consent import api_clients


@shared_task(name="consent.purge_api_credentials", queue="default", acks_late=True)
def purge_api_credentials() -> int:
    """Delete expired access tokens and the jtis of assertions that can no longer be valid (safe to run twice)."""
    return api_clients.purge_expired()
