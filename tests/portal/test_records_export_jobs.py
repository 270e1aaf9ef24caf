"""Background export of a large record: a Celery task builds an encrypted file, the page shows progress,
the person is told when it is ready, only the requester downloads it, and it is gone once expired."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from config.celery import app as celery_app
from phr.crypto.errors import DecryptionError
from phr.models import ExportJob, FhirResource, Person, PersonNotice, RecordAccess, User
from phr.models.exports import ExportStatus
from phr.notices.tasks import mail_person_notice
from phr.records import deletion, export_jobs
from phr.records.export_tasks import build_export_task, purge_expired_exports_task
from tests.conftest import grant_proxy_to, sign_in
from tests.phr.records.conftest import raw_of
from tests.portal.test_records_export import body_of, owner
from tests.portal.test_records_fixtures import seed_record
from tests.worker_broker import private_broker

__all__ = ["private_broker"]

PAGE = "/me/records/export/"


@pytest.fixture(autouse=True)
def _small_threshold(settings, tmp_path: Path) -> None:
    """Files under a temporary var/; three resources already count as a large record."""
    settings.VAR_DIR = tmp_path
    settings.MAMORI_EXPORT_INLINE_MAX = 3


@pytest.fixture
def eager(monkeypatch) -> list[str]:
    """Run the Celery tasks in-process (``apply``) when the request's transaction commits: the export, then
    the mail of the notice it leaves."""
    ran: list[str] = []

    def run(job_id) -> None:
        ran.append(str(job_id))
        build_export_task.apply(args=[str(job_id)]).get()

    monkeypatch.setattr(export_jobs, "_enqueue", run)
    monkeypatch.setattr(mail_person_notice, "delay", lambda notice_id: mail_person_notice.apply(args=[notice_id]))
    return ran


def request_export(client: Client, fmt: str, capture, prefix: str = "/me", *, run: bool = True) -> ExportJob:
    with capture(execute=run):
        response = client.post(f"{prefix}/records/export/", {"format": fmt})
    assert response.status_code == 302
    job = ExportJob.objects.order_by("-created_at").first()
    assert job is not None
    return job


def test_a_large_record_is_prepared_in_the_background_and_downloaded_when_ready(
    client: Client, alice: Person, eager, django_capture_on_commit_callbacks
) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)
    page = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "prepared in the background" in page and 'name="format" value="ndjson"' in page
    straight = client.get("/me/records/export/download/bundle/")
    assert straight.status_code == 302 and straight["Location"] == PAGE

    job = request_export(client, "bundle", django_capture_on_commit_callbacks)

    assert eager == [str(job.pk)]
    assert job.status == ExportStatus.READY and job.done == job.total == 10 and job.finished_at
    status = client.get(f"/me/records/export/jobs/{job.pk}/status/").json()
    assert status["ready"] is True and status["percent"] == 100 and status["in_progress"] is False
    page = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    download = f"/me/records/export/jobs/{job.pk}/download/"
    assert f'href="{download}"' in page and "Ready to download" in page
    response = client.get(download)
    assert response.status_code == 200 and response["Content-Type"] == "application/fhir+json"
    body = body_of(response)
    Bundle.model_validate_json(body)
    stored = {str(row.pk): json.loads(raw_of(row)) for row in FhirResource.objects.filter(person=alice)}
    entries = json.loads(body)["entry"]
    assert {entry["fullUrl"].removeprefix("urn:uuid:"): entry["resource"] for entry in entries} == stored


def test_the_background_ndjson_equals_the_raw_json_line_by_line(
    client: Client, alice: Person, eager, django_capture_on_commit_callbacks
) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)

    job = request_export(client, "ndjson", django_capture_on_commit_callbacks)
    body = body_of(client.get(f"/me/records/export/jobs/{job.pk}/download/"))

    assert sorted(body.splitlines()) == sorted(raw_of(row) for row in FhirResource.objects.filter(person=alice))


def test_the_file_at_rest_is_encrypted_and_a_changed_file_does_not_open(
    client: Client, alice: Person, eager, django_capture_on_commit_callbacks
) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)
    job = request_export(client, "ndjson", django_capture_on_commit_callbacks)
    path = export_jobs.export_path(job.pk)

    data = path.read_bytes()
    assert b"resourceType" not in data and "ペニシリン".encode() not in data

    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(DecryptionError):
        b"".join(export_jobs.read_export(job))
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DecryptionError):
        b"".join(export_jobs.read_export(job))


def test_the_file_is_split_into_frames_that_only_open_in_order(alice: Person, monkeypatch, settings) -> None:
    seed_record(alice)
    monkeypatch.setattr(export_jobs, "FRAME_BYTES", 512)
    job = export_jobs.request_export(person=alice, actor=owner(alice), fmt="ndjson")
    export_jobs.build_export(str(job.pk))
    job.refresh_from_db()
    whole = b"".join(export_jobs.read_export(job))
    assert whole.count(b"\n") == 10

    data = export_jobs.export_path(job.pk).read_bytes()
    first_len = int.from_bytes(data[:4], "big") + 4
    second_len = int.from_bytes(data[first_len : first_len + 4], "big") + 4
    swapped = data[first_len : first_len + second_len] + data[:first_len] + data[first_len + second_len :]
    export_jobs.export_path(job.pk).write_bytes(swapped)
    with pytest.raises(DecryptionError):
        b"".join(export_jobs.read_export(job))


def test_the_person_is_told_when_the_file_is_ready_without_health_data_in_the_mail(
    client: Client, alice: Person, eager, django_capture_on_commit_callbacks
) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)

    request_export(client, "bundle", django_capture_on_commit_callbacks)
    notice = PersonNotice.objects.get(person=alice, kind="export_ready")
    assert notice.context["link"] == PAGE and notice.mailed_at is not None

    (message,) = mail.outbox
    assert message.to == [alice.user.email]
    assert "/me/records/export/" in message.body
    for health in ("ペニシリン", "本態性高血圧症", "血糖", "アムロジピン"):
        assert health not in message.body and health not in message.subject


def test_asking_twice_while_it_is_prepared_makes_one_job(alice: Person, django_capture_on_commit_callbacks) -> None:
    seed_record(alice)
    with django_capture_on_commit_callbacks() as queued:
        first = export_jobs.request_export(person=alice, actor=owner(alice), fmt="bundle")
        second = export_jobs.request_export(person=alice, actor=owner(alice), fmt="bundle")
        other = export_jobs.request_export(person=alice, actor=owner(alice), fmt="ndjson")

    assert first.pk == second.pk != other.pk
    assert len(queued) == 2


def test_progress_shows_without_javascript_on_a_refresh(
    client: Client, alice: Person, django_capture_on_commit_callbacks
):
    seed_record(alice)
    sign_in(client, alice.user.email)
    job = request_export(client, "bundle", django_capture_on_commit_callbacks, run=False)  # queued, no worker
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, done=5, total=10)

    page = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert re.search(r'<progress[^>]*value="50"', page)
    assert "5 of 10" in page and "Being prepared" in page
    assert f"/me/records/export/jobs/{job.pk}/download/" not in page
    assert client.get(f"/me/records/export/jobs/{job.pk}/download/").status_code == 404
    assert client.get(f"/me/records/export/jobs/{job.pk}/status/").json()["percent"] == 50


def test_another_persons_export_is_404(
    client: Client, alice: Person, bob: Person, eager, django_capture_on_commit_callbacks
) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)
    job = request_export(client, "bundle", django_capture_on_commit_callbacks)
    other = Client()
    sign_in(other, bob.user.email)

    for path in (f"/me/records/export/jobs/{job.pk}/download/", f"/me/records/export/jobs/{job.pk}/status/"):
        assert other.get(path).status_code == 404
    assert other.get(f"/people/{alice.pk}/records/export/jobs/{job.pk}/download/").status_code == 404
    assert other.get("/me/records/export/jobs/not-a-uuid/status/").status_code == 404
    assert str(job.pk) not in other.get(PAGE).content.decode()


def test_a_proxy_exports_a_dependents_large_record_and_is_mailed_when_ready(
    client: Client, alice: Person, carol: User, eager, django_capture_on_commit_callbacks
) -> None:
    seed_record(alice)
    grant_proxy_to(alice, carol)
    sign_in(client, carol.email)
    prefix = f"/people/{alice.pk}"

    job = request_export(client, "ndjson", django_capture_on_commit_callbacks, prefix=prefix)
    body = body_of(client.get(f"{prefix}/records/export/jobs/{job.pk}/download/"))

    assert job.person == alice and job.requested_by == carol and len(body.splitlines()) == 10
    (message,) = mail.outbox
    assert message.to == [carol.email] and f"{prefix}/records/export/" in message.body
    assert "ペニシリン" not in message.body
    pages = set(RecordAccess.objects.filter(person=alice, actor=carol, route="proxy").values_list("page", flat=True))
    assert {"records.export", "records.export_download"} <= pages
    alice_client = Client()
    sign_in(alice_client, alice.user.email)
    assert alice_client.get(f"/me/records/export/jobs/{job.pk}/download/").status_code == 404


def test_an_expired_export_is_gone(client: Client, alice: Person, eager, django_capture_on_commit_callbacks) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)
    job = request_export(client, "bundle", django_capture_on_commit_callbacks)
    path = export_jobs.export_path(job.pk)
    assert path.exists()
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        created_at=now - timedelta(days=8), expires_at=now - timedelta(seconds=1)
    )

    assert client.get(f"/me/records/export/jobs/{job.pk}/download/").status_code == 404
    assert purge_expired_exports_task.apply().get() == 1

    assert not path.exists()
    assert not ExportJob.objects.filter(pk=job.pk).exists()


def test_a_file_whose_job_was_deleted_with_its_person_is_removed(alice: Person) -> None:
    import os
    import uuid

    seed_record(alice)
    job = export_jobs.request_export(person=alice, actor=owner(alice), fmt="bundle")
    export_jobs.build_export(str(job.pk))
    kept = export_jobs.export_path(job.pk)
    orphan, starting = export_jobs.export_path(uuid.uuid4()), export_jobs.export_path(uuid.uuid4())
    orphan.write_bytes(b"x")
    starting.write_bytes(b"x")
    hour_ago = time.time() - 3600
    os.utime(orphan, (hour_ago, hour_ago))

    assert export_jobs.purge_expired() == 0

    assert kept.exists() and starting.exists() and not orphan.exists()


def test_a_job_runs_once_and_a_failed_run_says_so(alice: Person, monkeypatch) -> None:
    seed_record(alice)
    job = export_jobs.request_export(person=alice, actor=owner(alice), fmt="bundle")
    assert build_export_task.apply(args=[str(job.pk)]).get() == ExportStatus.READY
    assert build_export_task.apply(args=[str(job.pk)]).get() is None  # a second delivery does nothing
    assert build_export_task.apply(args=["not-a-uuid"]).get() is None

    broken = export_jobs.request_export(person=alice, actor=owner(alice), fmt="ndjson")

    def explode(person):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export_jobs, "raw_resources", explode)
    with pytest.raises(RuntimeError):
        export_jobs.build_export(str(broken.pk))
    broken.refresh_from_db()
    assert broken.status == ExportStatus.FAILED and "ask for it again" in broken.error
    assert not export_jobs.export_path(broken.pk).with_suffix(".part").exists()


def test_a_stalled_job_is_queued_again(alice: Person, monkeypatch) -> None:
    job = export_jobs.request_export(person=alice, actor=owner(alice), fmt="bundle")
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=1))
    queued: list[str] = []
    monkeypatch.setattr(export_jobs, "_enqueue", lambda job_id: queued.append(str(job_id)))

    assert export_jobs.resume_stalled() == [str(job.pk)] == queued


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("private_broker")
def test_a_real_worker_builds_the_export_end_to_end(client: Client, alice: Person) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)
    with start_worker(celery_app, queues=["bulk"], perform_ping_check=False, pool="solo", loglevel="WARNING"):
        assert client.post(PAGE, {"format": "ndjson"}).status_code == 302
        job = ExportJob.objects.get(person=alice)
        deadline = time.monotonic() + 30
        while job.in_progress and time.monotonic() < deadline:
            time.sleep(0.2)
            job.refresh_from_db()

    assert job.status == ExportStatus.READY, job.error
    body = body_of(client.get(f"/me/records/export/jobs/{job.pk}/download/"))
    assert len(body.splitlines()) == 10
    assert PersonNotice.objects.filter(person=alice, kind="export_ready").exists()


def test_deleting_records_discards_the_exports_that_hold_them(
    alice: Person, django_capture_on_commit_callbacks
) -> None:
    seed_record(alice)
    job = export_jobs.request_export(person=alice, actor=owner(alice), fmt="ndjson")
    export_jobs.build_export(str(job.pk))
    path = export_jobs.export_path(job.pk)
    assert path.exists()

    scope = deletion.scope_for(alice, "all")
    assert scope is not None
    with django_capture_on_commit_callbacks(execute=True):
        deletion.delete_records(person=alice, scope=scope, actor=owner(alice))

    assert not ExportJob.objects.filter(person=alice).exists()
    assert not path.exists()
