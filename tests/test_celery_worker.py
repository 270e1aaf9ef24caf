"""A real Celery worker, on the configured broker, consumes the health task."""

from __future__ import annotations

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app as celery_app
from phr.tasks import ping


def test_the_celery_app_is_configured_for_at_least_once_delivery() -> None:
    conf = celery_app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert {q.name for q in conf.task_queues} == {"default", "sync", "bulk", "notices"}
    assert conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"


@pytest.mark.django_db(transaction=True)
def test_a_worker_answers_the_health_task() -> None:
    with start_worker(celery_app, queues=["default"], perform_ping_check=False, pool="solo", loglevel="WARNING"):
        result = ping.delay()
        assert result.get(timeout=30) == {"status": "ok"}


def test_every_scheduled_task_is_registered_on_the_worker() -> None:
    celery_app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    assert scheduled
    assert scheduled <= set(celery_app.tasks), scheduled - set(celery_app.tasks)
