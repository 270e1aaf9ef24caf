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
from tests.worker_broker import private_broker

__all__ = ["private_broker"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
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
