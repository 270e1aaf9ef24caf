"""Uploads nested past MAMORI_JSON_MAX_DEPTH, sent through the upload page as the person would send them.

The entry or line that is too deep is refused in the upload report, naming the limit; every other entry of the
same file is imported. Before the limit, a Bundle nested 20,000 deep killed the import task (RecursionError)
and the person read "an internal error" with nothing imported.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from phr.models import FhirResource, SyncRun
from phr.models.records import SyncRunStatus
from phr.records import reader, uploads
from tests.conftest import sign_in
from tests.phr.records.conftest import PATIENT, bundle, observation, to_json

URL = "/me/records/upload/"
DEPTH = 20_000
LIMIT_TEXT = "nested deeper than 64 levels"


@pytest.fixture(autouse=True)
def _private_var_dir(settings, tmp_path) -> None:
    settings.VAR_DIR = tmp_path


@pytest.fixture(autouse=True)
def _english(alice):
    """Reports are written in the person's language: alice reads English here (one test reads Japanese)."""
    alice.preferred_language = "en"
    alice.save(update_fields=["preferred_language"])
    with translation.override("en"):
        yield


def deep_value(depth: int = DEPTH) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def deep_resource(resource_id: str = "deep") -> str:
    return f'{{"resourceType":"Observation","id":"{resource_id}","status":"final","extension":{deep_value()}}}'


def deep_bundle_entry(depth: int = DEPTH) -> str:
    """An entry holding Bundles in Bundles ``depth`` times: the reader once recursed into each."""
    inner = '{"resourceType":"Bundle","type":"collection","entry":[{"resource":'
    return '{"resource":' + inner * depth + json.dumps(PATIENT) + "}]}" * depth + "}"


def bundle_with(*entries: str) -> bytes:
    return ('{"resourceType":"Bundle","type":"collection","entry":[' + ",".join(entries) + "]}").encode()


def entry(resource: dict[str, Any]) -> str:
    return to_json({"resource": resource}).decode()


def upload_and_import(client: Client, person, data: bytes, name: str = "records.json") -> SyncRun:
    sign_in(client, person.user.email)
    response = client.post(
        URL, {"file": SimpleUploadedFile(name, data, content_type="application/fhir+json")}, HTTP_ACCEPT="text/html"
    )
    assert response.status_code == 302, response.content[:500]
    run = SyncRun.objects.get(person=person)
    uploads.process_upload(run_id=run.id)
    run.refresh_from_db()
    return run


def imported(person) -> set[str]:
    return set(FhirResource.objects.filter(person=person).values_list("resource_id", flat=True))


def test_an_entry_nested_20000_deep_is_refused_alone_and_the_others_are_imported(client, alice) -> None:
    data = bundle_with(entry(PATIENT), '{"resource":' + deep_resource() + "}", entry(observation("after")))

    run = upload_and_import(client, alice, data)

    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    assert imported(alice) == {"p1", "after"}
    assert run.rejected_count == 1
    assert run.rejected_entries[0]["position"] == "entry 2"
    assert LIMIT_TEXT in run.rejected_entries[0]["reason"]
    report = client.get(f"/me/records/uploads/{run.id}/").content.decode()
    assert LIMIT_TEXT in report
    assert "internal error" not in report


def test_bundles_nested_in_bundles_20000_deep_are_refused_alone(client, alice) -> None:
    data = bundle_with(entry(observation("before")), deep_bundle_entry(), entry(PATIENT))

    run = upload_and_import(client, alice, data)

    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    assert imported(alice) == {"p1", "before"}
    assert [e["position"] for e in run.rejected_entries] == ["entry 2"]


def test_bundles_nested_within_the_limit_are_still_opened(client, alice) -> None:
    data = bundle_with(deep_bundle_entry(depth=10), entry(observation("o1")))

    run = upload_and_import(client, alice, data)

    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    assert imported(alice) == {"p1", "o1"}
    assert run.rejected_count == 0


def test_a_deep_ndjson_line_is_refused_alone(client, alice) -> None:
    lines = [json.dumps(PATIENT), deep_resource(), to_json(observation("o1")).decode(), ""]

    run = upload_and_import(client, alice, "\n".join(lines).encode(), name="records.ndjson")

    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    assert imported(alice) == {"p1", "o1"}
    assert run.rejected_entries[0]["position"] == "line 2"
    assert LIMIT_TEXT in run.rejected_entries[0]["reason"]


def test_a_deep_first_ndjson_line_still_reads_the_file_as_ndjson(client, alice) -> None:
    lines = [deep_resource(), json.dumps(PATIENT), to_json(observation("o1")).decode(), ""]

    run = upload_and_import(client, alice, "\n".join(lines).encode(), name="records.ndjson")

    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    assert imported(alice) == {"p1", "o1"}
    assert run.rejected_entries[0]["position"] == "line 1"


def test_a_single_resource_nested_too_deep_fails_naming_the_limit(client, alice) -> None:
    run = upload_and_import(client, alice, deep_resource().encode())

    assert run.status == SyncRunStatus.FAILED
    assert LIMIT_TEXT in run.error
    assert imported(alice) == set()


def test_a_streamed_bundle_with_a_deep_entry_imports_the_others(client, alice, monkeypatch) -> None:
    # Files past WHOLE_DOCUMENT_BYTES (8 MB) are streamed; the threshold is lowered so a small file takes that path.
    monkeypatch.setattr(reader, "WHOLE_DOCUMENT_BYTES", 1024)
    monkeypatch.setattr(reader, "_SCAN_BYTES", 4096)  # the depth scan carries its state across many chunks
    padding = entry(observation("padded", note=[{"text": '"[{\\' * 2000}]))
    data = bundle_with(entry(PATIENT), padding, '{"resource":' + deep_resource() + "}", entry(observation("o1")))

    run = upload_and_import(client, alice, data)

    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    assert imported(alice) == {"p1", "padded", "o1"}
    assert [e["position"] for e in run.rejected_entries] == ["entry 3"]


def test_a_streamed_bundle_within_the_limit_takes_the_ordinary_path(client, alice, monkeypatch) -> None:
    monkeypatch.setattr(reader, "WHOLE_DOCUMENT_BYTES", 1024)
    monkeypatch.setattr(reader, "_SCAN_BYTES", 7)
    data = bundle(PATIENT, *(observation(f"o{n}", note=[{"text": '[{"\\'}]) for n in range(20)))

    run = upload_and_import(client, alice, data)

    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    assert len(imported(alice)) == 21
    assert run.rejected_count == 0


def test_a_japanese_reader_sees_the_refusal_in_the_report_with_the_limit(client, alice) -> None:
    alice.preferred_language = "ja"
    alice.save(update_fields=["preferred_language"])
    data = bundle_with(entry(PATIENT), '{"resource":' + deep_resource() + "}")

    run = upload_and_import(client, alice, data)

    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    assert run.rejected_entries[0]["position"] == "2番目のエントリ"
    assert run.rejected_entries[0]["reason"] == "JSONの入れ子が64段を超えています（受け付ける上限です）。"
