"""The Celery app: at-least-once delivery, one task at a time per worker process, named queues."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("mamori")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_default_queue="default",
    task_queues=[Queue("default"), Queue("sync"), Queue("bulk"), Queue("notices")],
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=3600,
    beat_scheduler="django_celery_beat.schedulers:DatabaseScheduler",
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    # django-celery-beat's DatabaseScheduler copies these into its PeriodicTask table when beat starts.
    beat_schedule={
        # Hourly: queue a sync for every active FHIR connection not synced in the last day.
        "phr.refresh_connections": {"task": "phr.refresh_connections", "schedule": 3600.0},
        # Every 2 seconds: integrate queued entries of the tamper-evident logs and sign checkpoints.
        "phr.integrate_logs": {"task": "phr.integrate_logs", "schedule": 2.0},
        "consent.resume_stalled_bulk_checks": {"task": "consent.resume_stalled_bulk_checks", "schedule": 300.0},
        "consent.purge_expired_bulk_checks": {"task": "consent.purge_expired_bulk_checks", "schedule": 3600.0},
        # Hourly: drop expired access tokens and the replay record of expired client assertions.
        "consent.purge_api_credentials": {"task": "consent.purge_api_credentials", "schedule": 3600.0},
        # Background exports: re-queue stalled ones every 5 minutes, delete expired files hourly.
        "phr.resume_stalled_exports": {"task": "phr.resume_stalled_exports", "schedule": 300.0},
        "phr.purge_expired_exports": {"task": "phr.purge_expired_exports", "schedule": 3600.0},
    },
)
app.autodiscover_tasks()
app.autodiscover_tasks(["consent.bulk"])
