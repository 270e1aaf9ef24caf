"""Files over MAMORI_UPLOAD_MAX_BYTES are refused clearly, and no part of them stays on disk."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from phr.models import SyncRun
from tests.conftest import sign_in

URL = "/me/records/upload/"
LIMIT = 4096


@pytest.fixture(autouse=True)
def _small_limit(settings, tmp_path) -> None:
    settings.VAR_DIR = tmp_path
    settings.MAMORI_UPLOAD_MAX_BYTES = LIMIT


def _file(size: int) -> SimpleUploadedFile:
    return SimpleUploadedFile("big.ndjson", b"{" + b" " * (size - 2) + b"}", content_type="application/x-ndjson")


def test_a_file_declared_too_large_gets_413_before_it_is_read(client, alice) -> None:
    sign_in(client, alice.user.email)

    response = client.post(URL, {"file": _file(200 * 1024)})

    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert "4.0" in response.json()["detail"]
    assert not SyncRun.objects.exists()


def test_a_browser_gets_the_size_limit_as_a_form_error(client, alice) -> None:
    sign_in(client, alice.user.email)

    response = client.post(URL, {"file": _file(200 * 1024)}, HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert b'role="alert"' in response.content
    assert b"4.0" in response.content


def test_a_stream_that_passes_the_limit_is_stopped_and_deleted(client, alice, tmp_path) -> None:
    sign_in(client, alice.user.email)

    response = client.post(URL, {"file": _file(LIMIT + 1000)})

    assert response.status_code == 413
    assert not SyncRun.objects.exists()
    assert list((tmp_path / "uploads").iterdir()) == []


def test_a_file_just_under_the_limit_is_accepted(client, alice) -> None:
    sign_in(client, alice.user.email)

    response = client.post(URL, {"file": _file(LIMIT)})

    assert response.status_code == 202
