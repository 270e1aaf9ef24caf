"""Uploading a file through the portal: stored privately, queued on commit, imported by the task."""

from __future__ import annotations

import stat
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from phr.models import AuditEvent, FhirResource, SyncRun
from phr.models.records import SyncRunKind, SyncRunStatus
from phr.records import uploads
from tests.conftest import sign_in, sign_in_with_totp
from tests.phr.records.conftest import PATIENT, bundle, observation, raw_of

URL = "/me/records/upload/"
HTML: dict[str, Any] = {"HTTP_ACCEPT": "text/html"}


@pytest.fixture(autouse=True)
def _private_var_dir(settings, tmp_path) -> None:
    settings.VAR_DIR = tmp_path


def _post(client: Client, data: bytes, url: str = URL, name: str = "records.json", **headers: Any):
    return client.post(url, {"file": SimpleUploadedFile(name, data, content_type="application/fhir+json")}, **headers)


def test_the_upload_page_has_a_labelled_file_field(client, alice) -> None:
    sign_in(client, alice.user.email)

    response = client.get(URL)

    assert response.status_code == 200
    assert b'type="file"' in response.content
    assert b'for="id_file"' in response.content


def test_an_uploaded_file_is_queued_on_commit_and_kept_private(
    client, alice, django_capture_on_commit_callbacks
) -> None:
    sign_in(client, alice.user.email)

    with django_capture_on_commit_callbacks() as callbacks:
        response = _post(client, bundle(PATIENT, observation("o1", value="3.10")), **HTML)

    run = SyncRun.objects.get(person=alice)
    assert response.status_code == 302
    assert response["Location"] == f"/me/records/uploads/{run.id}/"
    assert (run.kind, run.status) == (SyncRunKind.UPLOAD, SyncRunStatus.QUEUED)
    assert len(callbacks) == 1
    path = uploads.upload_path(run)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not list(path.parent.glob("*.part"))


def test_the_task_imports_the_file_and_the_report_page_shows_it(client, alice) -> None:
    sign_in(client, alice.user.email)
    _post(client, bundle(PATIENT, observation("o1", value="3.10"), observation("bad", status=7)), **HTML)
    run = SyncRun.objects.get(person=alice)

    uploads.process_upload(run_id=run.id)

    run.refresh_from_db()
    assert run.status == SyncRunStatus.SUCCEEDED
    assert (run.created_count, run.rejected_count) == (2, 1)
    assert run.rejected_entries[0]["id"] == "bad"
    assert b'"value":3.10' in raw_of(FhirResource.objects.get(person=alice, resource_id="o1"))
    assert not uploads.upload_path(run).exists()
    page = client.get(f"/me/records/uploads/{run.id}/")
    assert page.status_code == 200
    assert b"Observation/bad" in page.content


def test_processing_an_upload_twice_imports_it_once(client, alice) -> None:
    sign_in(client, alice.user.email)
    _post(client, bundle(PATIENT, observation("o1")), **HTML)
    run = SyncRun.objects.get(person=alice)

    uploads.process_upload(run_id=run.id)
    uploads.process_upload(run_id=run.id)

    run.refresh_from_db()
    assert run.created_count == 2
    assert FhirResource.objects.filter(person=alice).count() == 2


def test_a_malformed_upload_fails_with_a_clear_error_and_loses_nothing(client, alice) -> None:
    sign_in(client, alice.user.email)
    _post(client, bundle(PATIENT, observation("kept", value="7.20")), **HTML)
    uploads.process_upload(run_id=SyncRun.objects.get(person=alice).id)

    _post(client, b'{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {', **HTML)
    failed = SyncRun.objects.filter(person=alice).order_by("-created_at").first()
    assert failed is not None
    uploads.process_upload(run_id=failed.id)

    failed.refresh_from_db()
    assert failed.status == SyncRunStatus.FAILED
    assert failed.error
    assert set(FhirResource.objects.filter(person=alice).values_list("resource_id", flat=True)) == {"p1", "kept"}
    assert b"7.20" in raw_of(FhirResource.objects.get(person=alice, resource_id="kept"))
    assert not uploads.upload_path(failed).exists()


def test_a_request_without_a_file_is_answered_with_a_problem(client, alice) -> None:
    sign_in(client, alice.user.email)

    response = client.post(URL, {})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_a_non_browser_client_gets_202_and_the_report_location(client, alice) -> None:
    sign_in(client, alice.user.email)

    response = _post(client, b'{"resourceType":"Patient","id":"p1"}\n{"resourceType":"Patient","id":"p1"}\n')

    assert response.status_code == 202
    assert response["Location"] == f"/me/records/uploads/{response.json()['run']}/"


def test_someone_else_cannot_see_an_upload_report(client, alice, bob) -> None:
    sign_in(client, alice.user.email)
    _post(client, bundle(PATIENT), **HTML)
    run = SyncRun.objects.get(person=alice)
    other = Client()
    sign_in(other, bob.user.email)

    assert other.get(f"/me/records/uploads/{run.id}/").status_code == 404
    assert other.get(f"/people/{alice.id}/records/upload/").status_code == 404


def test_an_operator_administrator_can_upload_for_a_person_and_it_is_audited(client, alice, erin) -> None:
    sign_in_with_totp(client, erin.email)

    response = _post(client, bundle(PATIENT), url=f"/people/{alice.id}/records/upload/", **HTML)

    assert response.status_code == 302
    run = SyncRun.objects.get(person=alice)
    assert AuditEvent.objects.filter(person=alice, actor=erin, action="records.uploaded_for_person").exists()
    assert client.get(f"/me/records/uploads/{run.id}/").status_code == 200


def test_a_reviewer_cannot_upload_for_a_person(client, alice, dave) -> None:
    sign_in_with_totp(client, dave.email)

    assert client.get(f"/people/{alice.id}/records/upload/").status_code == 404


def test_an_upload_without_a_csrf_token_is_refused_and_not_kept(alice, tmp_path) -> None:
    client = Client()
    sign_in(client, alice.user.email)
    client.handler.enforce_csrf_checks = True

    response = _post(client, bundle(PATIENT))

    assert response.status_code == 403
    assert not SyncRun.objects.exists()
    assert not list((tmp_path / "uploads").glob("*.part"))
