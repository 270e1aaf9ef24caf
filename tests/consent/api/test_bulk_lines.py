"""Lines of a bulk check: the plain-line shortcut reads every line exactly as the general CSV path does."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consent.bulk import jobs
from consent.bulk.identifiers import InvalidIdentifier
from consent.bulk.lines import LineParser, blind_indexes, parse_line
from consent.models import BulkCheck, BulkCheckStatus
from phr.crypto.blind_index import blind_index
from tests.consent.api.hospital import HOSPITAL_SYSTEM, accept, auth, hospital, patients

__all__ = ["auth", "hospital", "patients"]

SYSTEM = "urn:example:hospital:patient-number"
LINKAGE = "urn:example:linkage"
ACCEPTED = frozenset({SYSTEM, LINKAGE})


def general(raw: bytes, fmt: str = "csv") -> tuple[str, str] | str:
    try:
        ref = parse_line(raw, fmt, ACCEPTED)
    except InvalidIdentifier as error:
        return str(error)
    return ref.system, ref.value


def parsed(raw: bytes, fmt: str = "csv") -> tuple[str, str] | str:
    pairs, problems = LineParser(fmt, ACCEPTED).parse([raw])
    return pairs[0] or problems[0]


values = st.text(alphabet=st.sampled_from('AZaz09-_.|,"\\ \t\r０１Ｐ－é\x00'), max_size=12)
lines = st.builds(
    lambda system, sep, value, pad: f"{pad}{system}{sep}{value}{pad}",
    st.sampled_from([SYSTEM, LINKAGE, "urn:other", "", '"' + SYSTEM + '"']),
    st.sampled_from([",", "|", ", ", ",,"]),
    values,
    st.sampled_from(["", " ", "\ufeff"]),
)


@settings(max_examples=400, deadline=None)
@given(lines)
def test_every_line_reads_as_the_general_path_reads_it(line: str) -> None:
    raw = line.encode()
    assert parsed(raw) == general(raw)


def test_plain_lines_take_the_shortcut_and_others_do_not_lose_their_meaning() -> None:
    assert parsed(f"{SYSTEM},P-0001".encode()) == (SYSTEM, "P-0001")
    assert parsed(f"{SYSTEM},Ｐ－０００１".encode()) == (SYSTEM, "P-0001")  # full width, normalised
    assert parsed(f'"{SYSTEM}","a,b"'.encode()) == (SYSTEM, "a,b")
    assert parsed(f"{SYSTEM}|P-0001".encode()) == (SYSTEM, "P-0001")
    assert parsed(b"urn:other,P-1") == general(b"urn:other,P-1")
    assert "neither your patient-number system" in str(parsed(b"urn:other,P-1"))
    assert parsed(f"{SYSTEM},{'9' * 256}".encode()) == "The identifier value is too long or spans lines."
    assert parsed(b"\xff\xfe") == "The line is not UTF-8."


def test_ndjson_lines_read_as_the_general_path_reads_them() -> None:
    for raw in (b'{"system": "urn:example:linkage", "value": "1"}', b"[1]", b"{", b'{"system": "urn:other"}'):
        assert parsed(raw, "ndjson") == general(raw, "ndjson")


def test_blind_indexes_are_those_of_single_lookups() -> None:
    pairs = [(SYSTEM, "P-0001"), (LINKAGE, "1234"), (SYSTEM, "カタカナ")]
    assert blind_indexes(pairs) == [blind_index(system, value) for system, value in pairs]


def test_a_carriage_return_inside_a_csv_line_makes_that_line_invalid() -> None:
    assert "carriage return" in str(parsed(f"{SYSTEM},P-00\r01".encode()))
    assert "carriage return" in str(parsed(f'"{SYSTEM}","P-0001"\r"x"'.encode()))


def test_an_ndjson_line_nested_5000_deep_is_invalid_naming_the_limit() -> None:
    deep = b'{"system": "urn:example:linkage", "value": ' + b"[" * 5000 + b"]" * 5000 + b"}"

    assert "nested deeper than 64 levels" in str(parsed(deep, "ndjson"))


@pytest.fixture
def bulk_worker(settings, tmp_path, monkeypatch) -> None:
    """Files under a temporary var/, and the worker run in-process when the upload commits."""
    settings.VAR_DIR = tmp_path
    monkeypatch.setattr(jobs, "_enqueue", lambda job_id: jobs.run_bulk_check(str(job_id)))


def run_job(client, auth, project, body: bytes, content_type: str, capture) -> tuple[BulkCheck, list[dict[str, Any]]]:
    with capture(execute=True):
        response = client.post(
            f"/api/v1/bulk-checks?project={project.pk}", data=body, content_type=content_type, headers=auth
        )
    assert response.status_code == 202, response.content
    job = BulkCheck.objects.get(pk=response.json()["id"])
    results = client.get(f"/api/v1/bulk-checks/{job.pk}/results.ndjson", headers=auth)
    return job, [json.loads(line) for line in b"".join(results.streaming_content).splitlines()]


def test_a_stray_carriage_return_fails_one_line_not_the_job(
    client, auth, patients, study, bulk_worker, django_capture_on_commit_callbacks
):
    accept(patients["alice"], study)
    body = f"{HOSPITAL_SYSTEM},P-0001\n{HOSPITAL_SYSTEM},P-00\r02\n{HOSPITAL_SYSTEM},P-0002\n".encode()

    job, results = run_job(client, auth, study, body, "text/csv", django_capture_on_commit_callbacks)

    assert (job.status, job.error, job.processed) == (BulkCheckStatus.DONE, "", 3)
    assert [r["decision"] for r in results] == ["permit", "deny", "deny"]
    assert results[1]["reasons"][0]["code"] == "invalid-identifier"
    assert results[2]["reasons"][0]["code"] != "invalid-identifier"


def test_a_deeply_nested_ndjson_line_fails_one_line_not_the_job(
    client, auth, patients, study, bulk_worker, django_capture_on_commit_callbacks
):
    accept(patients["alice"], study)
    good = json.dumps({"system": HOSPITAL_SYSTEM, "value": "P-0001"}).encode()
    deep = b'{"system": "x", "value": ' + b"[" * 20000 + b"]" * 20000 + b"}"

    job, results = run_job(
        client, auth, study, b"\n".join([deep, good]), "application/x-ndjson", django_capture_on_commit_callbacks
    )

    assert (job.status, job.processed, job.permitted) == (BulkCheckStatus.DONE, 2, 1)
    assert results[0]["reasons"][0]["code"] == "invalid-identifier"
    assert "64 levels" in results[0]["reasons"][0]["message"]
    assert results[1]["decision"] == "permit"
