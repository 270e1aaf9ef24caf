"""The sync task on a real Celery worker (queue "sync"), the scheduled refresh and running a task twice."""

from __future__ import annotations

import threading
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import OperationalError

from config.celery import app as celery_app
from phr.fhir import services as fhir_services
from phr.models import FhirResource, SyncRun
from phr.models.records import SyncRunStatus
from phr.tasks import sync_connection
from tests.conftest import requires_postgres
from tests.phr.fhir.conftest import load_patient
from tests.worker_broker import reset_connections


@pytest.fixture
def own_broker_folder(tmp_path, settings):
    """With the filesystem broker, a queue folder of this test's own: another checkout's test run on the
    same machine shares var/celery and its worker would take our message."""
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        yield None
        return
    saved = dict(celery_app.conf.broker_transport_options)
    folder = tmp_path / "broker"
    for sub in ("queue", "processed"):
        (folder / sub).mkdir(parents=True)
    options = {**saved, "data_folder_in": str(folder / "queue"), "data_folder_out": str(folder / "queue"),
               "processed_folder": str(folder / "processed")}  # fmt: skip
    _reset_broker_pools(options)
    yield folder
    _reset_broker_pools(saved)


def _reset_broker_pools(options: dict) -> None:
    celery_app.conf.broker_transport_options = options
    reset_connections()


def wait_for_run(run_id, *, limit_seconds: float = 60) -> SyncRun:
    """Poll until the worker finishes the run (a bound on waiting, not an assertion on speed)."""
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        time.sleep(0.5)
        try:
            run = SyncRun.objects.get(pk=run_id)
        except OperationalError:
            # The test database is in-memory SQLite with a shared cache, where a read that meets the worker's
            # write transaction fails at once instead of waiting; production SQLite (a file, WAL) waits.
            continue
        if run.status in (SyncRunStatus.SUCCEEDED, SyncRunStatus.FAILED):
            return run
    raise AssertionError(f"the run did not finish within {limit_seconds} s")


def test_the_sync_task_is_declared_for_the_sync_queue_with_retries() -> None:
    assert sync_connection.queue == "sync"
    assert sync_connection.acks_late is True
    assert sync_connection.max_retries == 5


def test_beat_refreshes_connections_every_hour() -> None:
    entry = celery_app.conf.beat_schedule["phr.refresh_connections"]
    assert entry == {"task": "phr.refresh_connections", "schedule": 3600.0}


@pytest.mark.django_db(transaction=True)
def test_sync_now_runs_on_a_real_worker_and_the_records_arrive(alice, erin, endpoint, peer, own_broker_folder) -> None:
    connection, loaded = load_patient(peer, endpoint, alice, erin, tag="wk")

    with start_worker(celery_app, queues=["sync"], perform_ping_check=False, pool="solo", loglevel="WARNING"):
        run = fhir_services.request_sync(connection=connection, actor=alice.user)
        finished = wait_for_run(run.pk)

    assert finished.status == SyncRunStatus.SUCCEEDED, finished.error
    assert FhirResource.objects.filter(person=alice).count() == loaded.count


@pytest.mark.django_db
def test_delivering_the_same_run_twice_syncs_once(alice, erin, endpoint, peer, monkeypatch) -> None:
    monkeypatch.setattr("phr.tasks.sync_connection.delay", lambda *args: None)
    connection, _loaded = load_patient(peer, endpoint, alice, erin, tag="tw")
    run = fhir_services.request_sync(connection=connection, actor=None)

    assert sync_connection.apply(args=[str(connection.pk), str(run.pk)]).get() == SyncRunStatus.SUCCEEDED
    requests = SyncRun.objects.get(pk=run.pk).requests_made
    assert sync_connection.apply(args=[str(connection.pk), str(run.pk)]).get() is None
    assert SyncRun.objects.get(pk=run.pk).requests_made == requests
    assert SyncRun.objects.filter(connection=connection).count() == 1


@pytest.mark.django_db
def test_the_scheduled_refresh_queues_connections_not_synced_today(
    alice, bob, erin, endpoint, peer, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr("phr.tasks.sync_connection.delay", lambda *args: sent.append(args))
    fresh, _ = load_patient(peer, endpoint, alice, erin, tag="rf")
    stale, _ = load_patient(peer, endpoint, bob, erin, tag="rs")
    fhir_services.request_sync(connection=fresh, actor=None)
    sent.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert fhir_services.request_due_refreshes() == 1

    assert [connection_id for connection_id, _run in sent] == [str(stale.pk)]


@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_the_same_connection_at_once_start_one_run(alice, erin, endpoint, peer) -> None:
    from django.db import connection as db_connection

    from phr.fhir.sync import claim

    connection, _loaded = load_patient(peer, endpoint, alice, erin, tag="cc")
    barrier = threading.Barrier(4)
    claimed: list[object] = []

    def worker() -> None:
        try:
            barrier.wait()
            claimed.append(claim(connection.pk))
        finally:
            db_connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(run is not None for run in claimed) == 1
    assert SyncRun.objects.filter(connection=connection, status=SyncRunStatus.RUNNING).count() == 1
