"""Celery tasks of phr: thin wrappers that take ids and call one service."""

from __future__ import annotations

from celery import shared_task
from django.db import connection


@shared_task(name="phr.ping", queue="default", acks_late=True)
def ping() -> dict[str, str]:
    """Health task: proves a worker is consuming and can reach the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"status": "ok"}
