"""A broker of the test's own for tests that start a real Celery worker on the filesystem transport."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kombu import pools

from config.celery import app as celery_app


def reset_connections() -> None:
    # kombu keeps connection and producer pools in global registries keyed by the connection's settings:
    # closing the app's pool without clearing them leaves a closed pool that the next task send would take.
    pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[None]:
    """With the filesystem broker, a folder of this test's own: another checkout's worker on the same
    machine (sharing var/celery) must not take the message and look for the job in its own database."""
    if not str(celery_app.conf.broker_url).startswith("filesystem://"):
        yield
        return
    saved = celery_app.conf.broker_transport_options
    queue = tmp_path / "queue"
    queue.mkdir()
    (tmp_path / "processed").mkdir()
    celery_app.conf.broker_transport_options = {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "processed_folder": str(tmp_path / "processed"),
    }
    reset_connections()
    yield
    celery_app.conf.broker_transport_options = saved
    reset_connections()
