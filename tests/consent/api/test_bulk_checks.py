"""Contract of /api/v1/bulk-checks: streamed upload, worker run in chunks, results in input order."""

from __future__ import annotations

import io
import json
import random
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from consent import selectors
from consent import services as consent_services
from consent.bulk import jobs
from consent.disclosure import REQUEST_REASONS, hospital_reasons
from consent.models import (
    BulkCheck,
    BulkCheckStatus,
    BulkDecision,
    ConsentState,
    DecisionAudit,
    Notice,
    NoticeChannel,
    NoticeStatus,
    Project,
)
from phr.crypto.blind_index import blind_index
from phr.models import Identifier, Person
from tests.conftest import make_citizen, requires_postgres, sign_in
from tests.consent.api.hospital import (
    HOSPITAL_SYSTEM,
    accept,
    assert_problem,
    auth,
    bearer,
    decline,
    hospital,
    link,
    other_hospital,
    patients,
)
from tests.consent.conftest import long_ago, notify

__all__ = ["auth", "hospital", "other_hospital", "patients"]

URL = "/api/v1/bulk-checks"


@pytest.fixture(autouse=True)
def _bulk_dir(settings, tmp_path, monkeypatch):
    """Files under a temporary var/, and the worker run in-process when the upload commits."""
    settings.VAR_DIR = tmp_path
    monkeypatch.setattr(jobs, "_enqueue", lambda job_id: jobs.run_bulk_check(str(job_id)))


def upload(client, headers, project, body: str, content_type="text/csv", **extra) -> Any:
    return client.post(
        f"{URL}?project={project.pk}", data=body.encode(), content_type=content_type, headers=headers, **extra
    )


def run_upload(client, headers, project, body, django_capture_on_commit_callbacks, **kwargs) -> dict[str, Any]:
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, headers, project, body, **kwargs)
    assert response.status_code == 202, response.content
    assert response["Location"] == f"{URL}/{response.json()['id']}"
    return client.get(response["Location"], headers=headers).json()


def lines(response) -> list[str]:
    return b"".join(response.streaming_content).decode().splitlines()


def test_it_checks_a_csv_file_in_input_order(client, auth, patients, study, django_capture_on_commit_callbacks):
    accept(patients["alice"], study)
    decline(patients["bob"], study)
    body = f"system,value\n{HOSPITAL_SYSTEM},P-0002\n{HOSPITAL_SYSTEM}|P-0001\nnonsense\n{HOSPITAL_SYSTEM},P-9\n"
    job = run_upload(client, auth, study, body, django_capture_on_commit_callbacks)
    assert (job["status"], job["total"], job["processed"], job["permitted"]) == ("done", 4, 4, 1)
    assert job["progress"] == 1.0
    results = [json.loads(line) for line in lines(client.get(job["results_url"], headers=auth))]
    assert [r["line"] for r in results] == [1, 2, 3, 4]
    assert [r["decision"] for r in results] == ["deny", "permit", "deny", "deny"]
    assert results[2]["reasons"][0]["code"] == "invalid-identifier"
    assert results[2]["identifier"] is None
    assert results[3]["reasons"][0]["code"] == "unknown-person"
    permitted = client.get(job["permitted_url"], headers=auth)
    assert permitted["Content-Type"].startswith("text/csv")
    assert lines(permitted) == [f"{HOSPITAL_SYSTEM},P-0001"]


def test_it_checks_an_ndjson_file(client, auth, patients, study, django_capture_on_commit_callbacks):
    accept(patients["alice"], study)
    accept(patients["bob"], study)
    body = "\n".join(json.dumps({"system": HOSPITAL_SYSTEM, "value": v}) for v in ["P-0002", "P-0001"])
    job = run_upload(client, auth, study, body, django_capture_on_commit_callbacks, content_type="application/x-ndjson")
    assert job["permitted"] == 2
    permitted = [json.loads(line)["value"] for line in lines(client.get(job["permitted_url"], headers=auth))]
    assert permitted == ["P-0002", "P-0001"]


def test_it_agrees_with_the_single_endpoint(client, auth, patients, study, django_capture_on_commit_callbacks):
    accept(patients["alice"], study)
    body = f"{HOSPITAL_SYSTEM},P-0001\n{HOSPITAL_SYSTEM},P-0002\n"
    job = run_upload(client, auth, study, body, django_capture_on_commit_callbacks)
    for result in map(json.loads, lines(client.get(job["results_url"], headers=auth))):
        value = result["identifier"]["value"]
        single = client.get(
            "/api/v1/decisions", {"identifier": f"{HOSPITAL_SYSTEM}|{value}", "project": study.pk}, headers=auth
        ).json()
        for key in ("decision", "reasons", "categories", "consent_version"):
            assert result[key] == single[key]


def engine_answer(person: Person, project: Project) -> tuple[str, list[str], int | None]:
    """The engine's answer as a hospital is told it (person-specific reasons neutral)."""
    decision = selectors.decide_for_person(person, selectors.project_request(project))
    return decision.verdict.value, [r.code for r in hospital_reasons(decision)], decision.consent_version


def told_to_hospital(codes: list[str]) -> list[str]:
    """Full reason codes (the audit's) as the hospital's results show them."""
    told: list[str] = []
    for code in codes:
        shown = code if code in REQUEST_REASONS else "not-releasable"
        if shown not in told or shown in REQUEST_REASONS:
            told.append(shown)
    return told


def every_kind_of_person(patients, study) -> dict[str, Person]:
    """Patient numbers of persons the engine answers differently: choices, notices old, new and failed."""
    alice, bob = patients["alice"], patients["bob"]
    noticed, recent, failed, other = (
        make_citizen(f"{name}@example.test", "山田", name) for name in ("noticed", "recent", "failed", "other")
    )
    accept(alice, study)
    decline(bob, study)
    notify(noticed, study, at=long_ago())
    notify(recent, study, at=timezone.now() - timedelta(days=1))
    Notice.objects.create(person=failed, project=study, channel=NoticeChannel.EMAIL, status=NoticeStatus.FAILED)
    people = {"P-0001": alice, "P-0002": bob, "P-0003": noticed, "P-0004": recent, "P-0005": failed, "P-0006": other}
    for number, person in list(people.items())[2:]:
        link(person, HOSPITAL_SYSTEM, number)
    return people


def test_persons_with_one_choice_each_share_an_answer_but_an_unreadable_time_is_its_own(
    client, auth, patients, study, django_capture_on_commit_callbacks
):
    """One-directive states are grouped without their ids and times (PostgreSQL); what the engine reads stays."""
    alice, bob = patients["alice"], patients["bob"]
    later, opted, broken = (make_citizen(f"{name}@example.test", "山田", name) for name in ("later", "opted", "broken"))
    accept(alice, study)
    accept(later, study)  # the same choice, with its own id and time
    accept(opted, study)
    assert opted.user is not None
    consent_services.set_global_opt_out(person=opted, actor=opted.user, opted_out=True)  # two directives
    accept(broken, study)
    state = ConsentState.objects.get(person=broken)
    state.directives = [{**state.directives[0], "at": "2026-11-21T10:00:00"}]  # no time zone: unreadable
    state.save()
    people = {"P-0001": alice, "P-0002": bob, "P-0007": later, "P-0008": opted, "P-0009": broken}
    for number, person in list(people.items())[2:]:
        link(person, HOSPITAL_SYSTEM, number)
    job = run_upload(
        client, auth, study, "".join(f"{HOSPITAL_SYSTEM},{n}\n" for n in people), django_capture_on_commit_callbacks
    )
    results = [json.loads(line) for line in lines(client.get(job["results_url"], headers=auth))]
    answers = {r["identifier"]["value"]: (r["decision"], [c["code"] for c in r["reasons"]]) for r in results}
    for number, person in people.items():
        assert answers[number] == engine_answer(person, study)[:2], number
    assert answers["P-0001"][0] == answers["P-0007"][0] == "permit"
    assert answers["P-0009"] == ("deny", ["not-releasable"])  # the hospital is not told why
    rows = {row.person_id: row for row in BulkDecision.objects.select_related("run")}
    assert rows[alice.pk].verdict == rows[later.pk].verdict != rows[broken.pk].verdict
    assert rows[broken.pk].run.verdicts[rows[broken.pk].verdict] == ["deny", ["state-unreadable"]]
    assert_rows_match_results(results)


def test_every_line_agrees_with_the_engine_across_blocks_and_chunks(
    client, auth, patients, study, monkeypatch, django_capture_on_commit_callbacks
):
    """Blocks of 4 lines resolved at once (PostgreSQL), chunks of 3 checkpointed: neither boundary shows."""
    monkeypatch.setattr(jobs, "BLOCK_LINES", 4)
    monkeypatch.setattr(jobs, "CHUNK_LINES", 3)
    people = every_kind_of_person(patients, study)
    numbers = ["P-0006", "P-0003", "P-9", "P-0001", "P-0004", "P-0005", "P-0002", "P-0003", "Ｐ－０００１"]
    body = "".join(f"{HOSPITAL_SYSTEM},{n}\n" for n in numbers[:4]) + "nonsense\n"
    body += "".join(f"{HOSPITAL_SYSTEM},{n}\n" for n in numbers[4:6]) + "a,b,c\n"
    body += "".join(f"{HOSPITAL_SYSTEM},{n}\n" for n in numbers[6:])
    job = run_upload(client, auth, study, body, django_capture_on_commit_callbacks)
    assert (job["status"], job["processed"], job["total"]) == ("done", 11, 11)
    results = [json.loads(line) for line in lines(client.get(job["results_url"], headers=auth))]
    assert [r["line"] for r in results] == list(range(1, 12))
    assert [r["line"] for r in results if r["identifier"] is None] == [5, 8]  # first and second chunk of a block
    assert results[7]["reasons"][0]["message"] == "A CSV line is system,value or SYSTEM|VALUE."
    assert results[2]["reasons"][0]["code"] == "unknown-person"
    checked = [r for r in results if r["identifier"] is not None]
    for result in checked:
        person = people.get(result["identifier"]["value"])
        if person is not None:
            answer = (result["decision"], [r["code"] for r in result["reasons"]], result["consent_version"])
            assert answer == engine_answer(person, study), result["identifier"]
    assert {r["identifier"]["value"]: r["decision"] for r in checked}["P-0003"] == "permit"
    permitted = [r["identifier"]["value"] for r in checked if r["decision"] == "permit"]
    assert job["permitted"] == len(permitted)
    assert lines(client.get(job["permitted_url"], headers=auth)) == [f"{HOSPITAL_SYSTEM},{v}" for v in permitted]
    assert not DecisionAudit.objects.exists()  # a bulk check's rows are its own
    audited = BulkDecision.objects.all()
    assert audited.count() == len([n for n in numbers if n != "P-9"])
    assert Counter(audited.values_list("consent_version", flat=True)) == Counter(
        r["consent_version"] for r in checked if r["consent_version"] is not None
    )
    assert_rows_match_results(results)


def assert_rows_match_results(results: list[dict[str, Any]]) -> None:
    """Each audit row names the answer its line got in results.ndjson, through its run's numbering."""
    by_line = {r["line"]: r for r in results}
    for row in BulkDecision.objects.select_related("run"):
        result = by_line[row.line]
        decision, codes = row.run.verdicts[row.verdict]
        assert [decision, told_to_hospital(codes)] == [result["decision"], [r["code"] for r in result["reasons"]]]
        assert row.consent_version == result["consent_version"]


def test_it_audits_one_row_per_known_person(
    client, auth, hospital, patients, study, django_capture_on_commit_callbacks
):
    job = run_upload(
        client, auth, study, f"{HOSPITAL_SYSTEM},P-0001\n{HOSPITAL_SYSTEM},P-3\n", django_capture_on_commit_callbacks
    )
    [row] = BulkDecision.objects.select_related("run")
    assert (row.person_id, row.line, row.run_id) == (patients["alice"].pk, 1, uuid.UUID(job["id"]))
    assert (row.run.organisation_id, row.run.project_id) == (hospital.pk, study.pk)
    assert row.run.client_id == BulkCheck.objects.get(pk=job["id"]).client_id != ""
    [seen] = selectors.decision_checks_of(patients["alice"])
    assert (seen.channel, seen.decision, seen.organisation, seen.project) == ("bulk", "deny", hospital, study)
    assert seen.at == BulkCheck.objects.get(pk=job["id"]).evaluated_at
    alice: Person = patients["alice"]
    assert alice.user is not None
    sign_in(client, alice.user.email)
    page = client.get("/me/").content.decode()
    assert hospital.name in page and study.title_ja in page  # "Hospital X checked your choices for P"


def test_the_audit_outlives_the_expired_job(client, auth, patients, study, django_capture_on_commit_callbacks):
    job = run_upload(client, auth, study, f"{HOSPITAL_SYSTEM},P-0001\n", django_capture_on_commit_callbacks)
    BulkCheck.objects.filter(pk=job["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert jobs.purge_expired() == 1
    assert not BulkCheck.objects.exists()
    [seen] = selectors.decision_checks_of(patients["alice"])
    assert seen.channel == "bulk"


def test_another_organisation_gets_404(
    client, auth, other_hospital, patients, study, django_capture_on_commit_callbacks
):
    job = run_upload(client, auth, study, f"{HOSPITAL_SYSTEM},P-0001\n", django_capture_on_commit_callbacks)
    stranger = bearer(other_hospital)
    for url in (f"{URL}/{job['id']}", job["permitted_url"], job["results_url"]):
        assert_problem(client.get(url, headers=stranger), 404)


def test_results_wait_until_the_job_is_done(client, auth, patients, study, monkeypatch):
    monkeypatch.setattr(jobs, "_enqueue", lambda job_id: None)
    response = upload(client, auth, study, f"{HOSPITAL_SYSTEM},P-0001\n")
    job = response.json()
    assert job["status"] == "queued"
    assert_problem(client.get(job["results_url"], headers=auth), 409)
    assert_problem(client.get(job["permitted_url"], headers=auth), 409)


def test_it_refuses_an_upload_beyond_the_limit_keeping_nothing(client, auth, study, settings):
    settings.MAMORI_BULK_MAX_BYTES = 1024
    body = "".join(f"{HOSPITAL_SYSTEM},P-{n:05d}\n" for n in range(200))
    assert_problem(upload(client, auth, study, body), 413)
    assert not BulkCheck.objects.exists()
    bulk = settings.VAR_DIR / "bulk"
    assert not bulk.exists() or not any(bulk.iterdir())


def test_a_stream_running_past_the_limit_keeps_nothing(hospital, study, settings):
    """A body without (or with a lying) Content-Length is counted as it streams."""
    settings.MAMORI_BULK_MAX_BYTES = 1024
    with pytest.raises(jobs.UploadTooLarge):
        jobs.create_bulk_check(
            organisation=hospital,
            client_id="",
            project=study,
            fmt="csv",
            language="ja",
            stream=io.BytesIO(b"x,y\n" * 1000),
        )
    assert not BulkCheck.objects.exists()
    assert not any((settings.VAR_DIR / "bulk").iterdir())


def test_it_refuses_other_media_types(client, auth, study):
    assert_problem(upload(client, auth, study, "{}", content_type="application/json"), 415)


def test_it_needs_a_known_project(client, auth):
    response = client.post(
        f"{URL}?project=00000000-0000-0000-0000-000000000000", data=b"x", content_type="text/csv", headers=auth
    )
    assert_problem(response, 404)


def test_it_needs_the_bulk_scope(client, hospital, study):
    assert_problem(upload(client, bearer(hospital, "consent.check"), study, "x\n"), 403)


def test_a_run_that_died_resumes_without_repeating_or_losing_lines(client, auth, patients, study, monkeypatch):
    accept(patients["alice"], study)
    monkeypatch.setattr(jobs, "_enqueue", lambda job_id: None)
    monkeypatch.setattr(jobs, "CHUNK_LINES", 2)
    values = ["P-0001", "P-0002", "P-3", "P-0001", "P-5"]
    job_id = upload(client, auth, study, "".join(f"{HOSPITAL_SYSTEM},{v}\n" for v in values)).json()["id"]
    real = jobs._Output.checkpoint
    calls = {"n": 0}

    def dies_before_the_second_checkpoint(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(jobs._Output, "checkpoint", dies_before_the_second_checkpoint)
    with pytest.raises(SystemExit):
        jobs.run_bulk_check(job_id)
    job = BulkCheck.objects.get(pk=job_id)
    assert (job.status, job.processed) == (BulkCheckStatus.RUNNING, 2)
    if connection.vendor == "postgresql":  # the block's audit rows went in with its first checkpoint
        assert (job.audited, BulkDecision.objects.count()) == (5, 3)
    assert_problem(client.get(f"{URL}/{job_id}/results.ndjson", headers=auth), 409)
    assert jobs.run_bulk_check(job_id) is None  # the lease still holds
    BulkCheck.objects.filter(pk=job_id).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert jobs.resume_stalled() == [job_id]
    assert jobs.run_bulk_check(job_id).status == BulkCheckStatus.DONE
    results = [json.loads(line) for line in lines(client.get(f"{URL}/{job_id}/results.ndjson", headers=auth))]
    assert [r["line"] for r in results] == [1, 2, 3, 4, 5]
    assert [r["decision"] for r in results] == ["permit", "deny", "deny", "permit", "deny"]
    assert BulkDecision.objects.count() == 3
    assert_rows_match_results(results)


def test_a_run_that_died_in_a_later_block_resumes_from_its_last_checkpoint(client, auth, patients, study, monkeypatch):
    people = every_kind_of_person(patients, study)
    monkeypatch.setattr(jobs, "_enqueue", lambda job_id: None)
    monkeypatch.setattr(jobs, "BLOCK_LINES", 4)
    monkeypatch.setattr(jobs, "CHUNK_LINES", 2)
    numbers = [*people, "P-9", *people]
    job_id = upload(client, auth, study, "".join(f"{HOSPITAL_SYSTEM},{n}\n" for n in numbers)).json()["id"]
    real = jobs._Output.checkpoint
    calls = {"n": 0}

    def dies_before_the_third_checkpoint(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("worker killed")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(jobs._Output, "checkpoint", dies_before_the_third_checkpoint)
    with pytest.raises(SystemExit):
        jobs.run_bulk_check(job_id)
    assert BulkCheck.objects.get(pk=job_id).processed == 4
    assert BulkDecision.objects.count() == 4
    BulkCheck.objects.filter(pk=job_id).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert jobs.run_bulk_check(job_id).status == BulkCheckStatus.DONE
    results = [json.loads(line) for line in lines(client.get(f"{URL}/{job_id}/results.ndjson", headers=auth))]
    assert [r["line"] for r in results] == list(range(1, len(numbers) + 1))
    assert [r["identifier"]["value"] for r in results] == numbers
    assert BulkDecision.objects.count() == len(numbers) - 1
    assert_rows_match_results(results)  # the resumed run numbered answers as the first one did
    for result in results:
        if (person := people.get(result["identifier"]["value"])) is not None:
            assert result["decision"] == engine_answer(person, study)[0]


def test_a_job_interrupted_too_often_fails_cleanly(client, auth, study, monkeypatch):
    monkeypatch.setattr(jobs, "_enqueue", lambda job_id: None)
    job_id = upload(client, auth, study, f"{HOSPITAL_SYSTEM},P-1\n").json()["id"]
    BulkCheck.objects.filter(pk=job_id).update(
        status=BulkCheckStatus.RUNNING, attempts=jobs.MAX_ATTEMPTS, lease_until=timezone.now() - timedelta(1)
    )
    assert jobs.run_bulk_check(job_id) is None
    job = client.get(f"{URL}/{job_id}", headers=auth).json()
    assert job["status"] == "failed" and job["error"]
    assert_problem(client.get(job["results_url"], headers=auth), 409)


def test_expired_jobs_and_their_files_are_deleted(
    client, auth, patients, study, django_capture_on_commit_callbacks, settings
):
    job = run_upload(client, auth, study, f"{HOSPITAL_SYSTEM},P-0001\n", django_capture_on_commit_callbacks)
    BulkCheck.objects.filter(pk=job["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_problem(client.get(f"{URL}/{job['id']}", headers=auth), 404)
    assert jobs.purge_expired() == 1
    assert not (settings.VAR_DIR / "bulk" / job["id"]).exists()


@requires_postgres()
def test_a_hundred_thousand_identifiers_on_postgres(
    client, auth, hospital, study, alice, django_capture_on_commit_callbacks
):
    """100,000 lines against 100,000 persons, agreeing with the single endpoint on a sample."""
    count = 100_000
    persons = [Person(family_name="試験", given_name=str(n), birth_date=alice.birth_date) for n in range(count)]
    Person.objects.bulk_create(persons, batch_size=5000)
    Identifier.objects.bulk_create(
        [
            Identifier(
                person=p,
                system=HOSPITAL_SYSTEM,
                blind_index=blind_index(HOSPITAL_SYSTEM, f"B-{n}"),
                value_encrypted=b"",
            )
            for n, p in enumerate(persons)
        ],
        batch_size=5000,
    )
    link(alice, HOSPITAL_SYSTEM, "B-alice")
    accept(alice, study)
    body = "".join(f"{HOSPITAL_SYSTEM},B-{n}\n" for n in range(count)) + f"{HOSPITAL_SYSTEM},B-alice\n"
    job = run_upload(client, auth, study, body, django_capture_on_commit_callbacks)
    assert (job["status"], job["processed"]) == ("done", count + 1)
    results = lines(client.get(job["results_url"], headers=auth))
    assert len(results) == count + 1
    assert json.loads(results[-1])["decision"] == "permit"
    for n in [*random.Random(7).sample(range(count), 25), count]:
        result = json.loads(results[n])
        value = result["identifier"]["value"]
        single = client.get(
            "/api/v1/decisions", {"identifier": f"{HOSPITAL_SYSTEM}|{value}", "project": study.pk}, headers=auth
        ).json()
        assert (result["decision"], result["reasons"], result["categories"]) == (
            single["decision"],
            single["reasons"],
            single["categories"],
        )
    assert connection.vendor == "postgresql"
    assert BulkDecision.objects.count() == count + 1
    [row] = BulkDecision.objects.filter(person=alice).select_related("run")
    assert (row.run.verdicts[row.verdict], row.consent_version) == (["permit", []], 1)
    assert row.run.organisation_id == hospital.pk and row.run.project_id == study.pk
