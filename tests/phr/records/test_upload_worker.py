"""A real Celery worker on the ``sync`` queue imports an upload once the request's transaction commits."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.files.uploadedfile import SimpleUploadedFile

from config.celery import app as celery_app
from phr.models import FhirResource, SyncRun
from phr.models.records import SyncRunStatus
from tests.conftest import sign_in
from tests.phr.records.conftest import PATIENT, bundle, observation


def _reset_connections() -> None:
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def private_broker(tmp_path):
    """With the filesystem broker, a folder of this test's own: another checkout's worker on the same
    machine (sharing var/celery) must not take the message and look for the run in its own database."""
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
    _reset_connections()
    yield
    celery_app.conf.broker_transport_options = saved
    _reset_connections()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("private_broker")
def test_a_worker_imports_an_uploaded_file(client, alice, settings, tmp_path) -> None:
    settings.VAR_DIR = tmp_path
    sign_in(client, alice.user.email)
    with start_worker(celery_app, queues=["sync"], perform_ping_check=False, pool="solo", loglevel="WARNING"):
        response = client.post(
            "/me/records/upload/",
            {"file": SimpleUploadedFile("r.json", bundle(PATIENT, observation("o1")))},
        )
        assert response.status_code == 202
        run = SyncRun.objects.get(pk=response.json()["run"])
        deadline = time.monotonic() + 30
        while run.status not in (SyncRunStatus.SUCCEEDED, SyncRunStatus.FAILED) and time.monotonic() < deadline:
            time.sleep(0.2)
            run.refresh_from_db()

    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    assert FhirResource.objects.filter(person=alice).count() == 2
