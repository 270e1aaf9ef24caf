"""What hospitals see (EHDS Art 8, DESIGN §6), written as the attacks.

Hospital B holds no record of alice (a patient of hospital A, who also holds a national linkage id) and asks
about her by that linkage id, on every path: it must get exactly what a random unknown linkage id gets.
Hospital A, her own hospital, asks about her after she restricted use: it learns that her data is not
releasable, never which choice decided it. Alice sees every check and FHIR Consent read with the full reason.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from consent import services as consent_services
from consent.bulk import jobs
from consent.models import BulkDecision, DecisionAudit, LedgerEntry, Project, ProjectStatus
from phr.models import Organisation, Person
from phr.models.fhir import AuthMode, Connection, ConnectionKind, ConnectionStatus, FhirEndpoint
from tests.conftest import sign_in
from tests.consent.api.hospital import (
    HOSPITAL_SYSTEM,
    OTHER_SYSTEM,
    accept,
    assert_problem,
    auth,
    bearer,
    hospital,
    link,
    linkage_system,
    other_hospital,
    patients,
    post_json,
)
from tests.consent.conftest import make_project

__all__ = ["auth", "hospital", "other_hospital", "patients"]

ALICE = "L-ALICE"  # alice's linkage id (the patients fixture); she is P-0001 at hospital A only
NOBODY = "L-NOBODY-4711"  # a linkage id nobody holds
# What a restriction looks like in a full answer: none of it may reach a hospital.
PERSON_CODES = {
    "global-opt-out",
    "category-denied",
    "organisation-blocked",
    "project-declined",
    "opt-in-required",
    "not-notified",
    "notice-window-open",
    "state-unreadable",
    "purpose-not-coded",
}


@pytest.fixture(autouse=True)
def _bulk_dir(settings, tmp_path, monkeypatch):
    """Files under a temporary var/, and the bulk worker run in-process when the upload commits."""
    settings.VAR_DIR = tmp_path
    monkeypatch.setattr(jobs, "_enqueue", lambda job_id: jobs.run_bulk_check(str(job_id)))


@pytest.fixture(params=["accepted", "opted-out"])
def choice(request: pytest.FixtureRequest, patients: dict[str, Person], study: Project) -> str:
    """Alice either accepted the study (a stranger must not see a permit) or opted out of all secondary use
    (a stranger must not see that she restricted anything)."""
    alice = patients["alice"]
    assert alice.user is not None
    if request.param == "accepted":
        accept(alice, study)
    else:
        consent_services.set_global_opt_out(person=alice, actor=alice.user, opted_out=True)
    return str(request.param)


@pytest.fixture
def stranger(other_hospital: Organisation) -> dict[str, str]:
    """A token of hospital B, which holds no record of alice."""
    return bearer(other_hospital)


def linkage(value: str) -> str:
    return f"{linkage_system()}|{value}"


def without(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in keys}


def decision(client: Client, headers: dict[str, str], identifier: str, project: Project, /, **extra: Any) -> Any:
    query = {"identifier": identifier, "project": str(project.pk), **extra}
    return client.get("/api/v1/decisions", query, headers=headers)


def batch(client: Client, headers: dict[str, str], project: Project, *refs: tuple[str, str]) -> Any:
    body = {"project": str(project.pk), "identifiers": [{"system": s, "value": v} for s, v in refs]}
    return post_json(client, "/api/v1/decisions:batch", body, headers)


def bulk_results(
    client: Client, headers: dict[str, str], project: Project, body: str, capture: Any
) -> tuple[list[dict[str, Any]], list[str]]:
    """Upload ``body`` as a CSV bulk check, run it, and read results.ndjson and permitted."""
    with capture(execute=True):
        response = client.post(
            f"/api/v1/bulk-checks?project={project.pk}", data=body, content_type="text/csv", headers=headers
        )
    assert response.status_code == 202, response.content
    job = client.get(response["Location"], headers=headers).json()
    assert job["status"] == "done", job
    results = [json.loads(line) for line in b"".join(client.get(job["results_url"], headers=headers)).splitlines()]
    permitted = b"".join(client.get(job["permitted_url"], headers=headers)).decode().splitlines()
    return results, permitted


def fhir_consent(client: Client, headers: dict[str, str], identifier: str) -> Any:
    return client.get("/fhir/r4/Consent", {"patient.identifier": identifier}, headers=headers)


def nothing_recorded_about(person: Person) -> bool:
    return (
        not DecisionAudit.objects.filter(person=person).exists()
        and not BulkDecision.objects.filter(person=person).exists()
    )


# -- another hospital, by linkage id: the answer of an unknown identifier -------------------------------------


def test_a_single_decision_about_another_hospitals_patient_is_that_of_an_unknown_id(
    client, auth, stranger, patients, study, choice
):
    probe = decision(client, stranger, linkage(ALICE), study)
    unknown = decision(client, stranger, linkage(NOBODY), study)
    assert probe.status_code == unknown.status_code == 200
    assert without(probe.json(), "identifier", "evaluated_at") == without(unknown.json(), "identifier", "evaluated_at")
    assert [r["code"] for r in probe.json()["reasons"]] == ["unknown-person"]
    assert probe.json()["consent_version"] is None
    assert nothing_recorded_about(patients["alice"])
    own = decision(client, auth, linkage(ALICE), study).json()  # her own hospital finds her by it
    assert (own["decision"], own["consent_version"]) == ("permit" if choice == "accepted" else "deny", 1)


def test_a_batch_answers_another_hospitals_patient_as_an_unknown_id(client, stranger, patients, study, choice):
    response = batch(client, stranger, study, (linkage_system(), ALICE), (linkage_system(), NOBODY))
    assert response.status_code == 200, response.content
    probe, unknown = response.json()["results"]
    assert without(probe, "identifier", "evaluated_at") == without(unknown, "identifier", "evaluated_at")
    assert probe["decision"] == "deny" and [r["code"] for r in probe["reasons"]] == ["unknown-person"]
    assert nothing_recorded_about(patients["alice"])


def test_a_bulk_check_answers_another_hospitals_patient_as_an_unknown_id(
    client, stranger, patients, study, choice, django_capture_on_commit_callbacks
):
    body = f"{linkage_system()},{ALICE}\n{linkage_system()},{NOBODY}\n"
    results, permitted = bulk_results(client, stranger, study, body, django_capture_on_commit_callbacks)
    probe, unknown = results
    assert without(probe, "line", "identifier") == without(unknown, "line", "identifier")
    assert probe["decision"] == "deny" and [r["code"] for r in probe["reasons"]] == ["unknown-person"]
    assert permitted == []
    assert nothing_recorded_about(patients["alice"])


def test_a_bulk_check_answers_per_line_whatever_the_block_and_chunk(
    client, auth, stranger, patients, study, monkeypatch, django_capture_on_commit_callbacks
):
    """Lines of the caller's own patients and of strangers mixed across blocks (the server-side join)."""
    monkeypatch.setattr(jobs, "BLOCK_LINES", 2)
    monkeypatch.setattr(jobs, "CHUNK_LINES", 1)
    accept(patients["alice"], study)
    body = f"{linkage_system()},{ALICE}\n{HOSPITAL_SYSTEM},P-0001\n{linkage_system()},{NOBODY}\n"
    own, own_permitted = bulk_results(client, auth, study, body, django_capture_on_commit_callbacks)
    assert [r["decision"] for r in own] == ["permit", "permit", "deny"]
    assert own_permitted == [f"{linkage_system()},{ALICE}", f"{HOSPITAL_SYSTEM},P-0001"]
    body = f"{linkage_system()},{ALICE}\n{linkage_system()},{NOBODY}\n{linkage_system()},{ALICE}\n"
    theirs, their_permitted = bulk_results(client, stranger, study, body, django_capture_on_commit_callbacks)
    assert [r["reasons"][0]["code"] for r in theirs] == ["unknown-person"] * 3
    assert their_permitted == []


def test_a_release_refuses_another_hospitals_patient_as_an_unknown_id(client, stranger, patients, study, choice):
    body = {
        "project": str(study.pk),
        "identifiers": [{"system": linkage_system(), "value": v} for v in (ALICE, NOBODY)],
    }
    response = post_json(client, "/api/v1/releases", body, {**stranger, "Idempotency-Key": "probe"})
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["accepted"] == 0
    probe, unknown = answer["refused"]
    assert (
        probe["reasons"]
        == unknown["reasons"]
        == [{"code": "unknown-person", "message": probe["reasons"][0]["message"]}]
    )
    assert not LedgerEntry.objects.exists()
    assert nothing_recorded_about(patients["alice"])


def test_fhir_consent_of_another_hospitals_patient_is_an_empty_searchset(client, stranger, patients, study, choice):
    probe = fhir_consent(client, stranger, linkage(ALICE))
    unknown = fhir_consent(client, stranger, linkage(NOBODY))
    assert probe.status_code == unknown.status_code == 200
    assert without(probe.json(), "timestamp") == without(unknown.json(), "timestamp")
    assert probe.json()["total"] == 0
    assert nothing_recorded_about(patients["alice"])


def answers_of_every_path(client: Client, headers: dict[str, str], study: Project, capture: Any) -> list[str]:
    """What each path (single, batch, bulk, FHIR Consent) tells hospital B about alice's linkage id."""
    single = decision(client, headers, linkage(ALICE), study).json()["decision"]
    [batched] = batch(client, headers, study, (linkage_system(), ALICE)).json()["results"]
    [bulked], _ = bulk_results(client, headers, study, f"{linkage_system()},{ALICE}\n", capture)
    consents = fhir_consent(client, headers, linkage(ALICE)).json()["total"]
    return [single, batched["decision"], bulked["decision"], f"{consents} consents"]


def test_a_hospital_is_linked_by_a_connection_to_its_fhir_server_or_its_patient_number_on_every_path(
    client, stranger, other_hospital, patients, study, django_capture_on_commit_callbacks
):
    """Both forms of the linkage rule (SQL on the single and PostgreSQL paths, the ORM elsewhere) agree."""
    capture = django_capture_on_commit_callbacks
    accept(patients["alice"], study)
    linked = ["permit", "permit", "permit", "4 consents"]
    unlinked = ["deny", "deny", "deny", "0 consents"]
    assert answers_of_every_path(client, stranger, study, capture) == unlinked
    endpoint = FhirEndpoint.objects.create(
        organisation=other_hospital,
        name="Osaka Central FHIR",
        base_url="https://fhir.osaka-central.example/r4",
        auth_mode=AuthMode.SMART_PATIENT,
    )
    connection = Connection.objects.create(
        person=patients["alice"], endpoint=endpoint, kind=ConnectionKind.PATIENT_AUTHORISED
    )
    assert answers_of_every_path(client, stranger, study, capture) == linked
    connection.status = ConnectionStatus.REVOKED
    connection.save(update_fields=["status"])
    assert answers_of_every_path(client, stranger, study, capture) == unlinked
    link(patients["alice"], OTHER_SYSTEM, "O-77")
    assert answers_of_every_path(client, stranger, study, capture) == linked
    assert decision(client, stranger, f"{OTHER_SYSTEM}|O-77", study).json()["decision"] == "permit"


# -- her own hospital: not releasable, never why --------------------------------------------------------------


def opt_out(person: Person) -> None:
    assert person.user is not None
    consent_services.set_global_opt_out(person=person, actor=person.user, opted_out=True)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_her_own_hospital_learns_only_that_an_opted_out_person_is_not_releasable(
    client, auth, patients, study, language, django_capture_on_commit_callbacks
):
    opt_out(patients["alice"])
    headers = {**auth, "Accept-Language": language}
    single = decision(client, headers, f"{HOSPITAL_SYSTEM}|P-0001", study).json()
    [batched] = batch(client, headers, study, (HOSPITAL_SYSTEM, "P-0001")).json()["results"]
    [bulked], _ = bulk_results(
        client, headers, study, f"{HOSPITAL_SYSTEM},P-0001\n", django_capture_on_commit_callbacks
    )
    release = post_json(
        client,
        "/api/v1/releases",
        {"project": str(study.pk), "identifiers": [{"system": HOSPITAL_SYSTEM, "value": "P-0001"}]},
        {**headers, "Idempotency-Key": f"opted-out-{language}"},
    ).json()
    [refused] = release["refused"]
    message = (
        "This person's data cannot be released for this use."
        if language == "en"
        else "この人のデータは、この利用のためには提供できません。"
    )
    for answer in (single, batched, bulked, refused):
        assert answer["reasons"] == [{"code": "not-releasable", "message": message}]
    for answer in (single, batched, bulked):
        assert answer["decision"] == "deny"
        assert {c["basis"] for c in answer["categories"].values()} == {"not_releasable"}
    assert single["obligations"] == batched["obligations"] == []
    for text in (json.dumps(single), json.dumps(batched), json.dumps(bulked), json.dumps(release)):
        assert not any(code in text for code in PERSON_CODES), text
        assert "opt" not in text.lower()
    # The person's own record of each check keeps the full reason.
    assert {tuple(r) for r in DecisionAudit.objects.values_list("reasons", flat=True)} == {("global-opt-out",)}
    [row] = BulkDecision.objects.select_related("run")
    assert row.run.verdicts[row.verdict] == ["deny", ["global-opt-out"]]


def test_a_refused_category_and_a_blocked_hospital_are_not_told_either(client, auth, patients, study, university):
    alice, bob = patients["alice"], patients["bob"]
    assert alice.user is not None and bob.user is not None
    consent_services.set_category_choice(
        person=alice, actor=alice.user, category="lab_results", purpose_class="", value="deny"
    )
    consent_services.set_organisation_block(person=bob, actor=bob.user, organisation=university, blocked=True)
    for number in ("P-0001", "P-0002"):
        body = decision(client, auth, f"{HOSPITAL_SYSTEM}|{number}", study).json()
        assert [r["code"] for r in body["reasons"]] == ["not-releasable"], number
        assert body["decision"] == "deny"
    alice_categories = decision(client, auth, f"{HOSPITAL_SYSTEM}|P-0001", study).json()["categories"]
    assert alice_categories["lab_results"] == {"decision": "deny", "basis": "not_releasable"}


def test_reasons_about_the_request_itself_stay_precise(client, auth, patients, study, university):
    opt_out(patients["alice"])
    unknown_category = decision(client, auth, f"{HOSPITAL_SYSTEM}|P-0001", study, category="diagnoses,horoscope")
    codes = [r["code"] for r in unknown_category.json()["reasons"]]
    assert "unknown-category" in codes and "global-opt-out" not in codes
    assert unknown_category.json()["categories"]["horoscope"] == {"decision": "deny", "basis": "invalid"}
    draft = make_project(university, status=ProjectStatus.SUBMITTED, title_ja="審査中の研究")
    body = decision(client, auth, f"{HOSPITAL_SYSTEM}|P-0001", draft).json()
    assert [r["code"] for r in body["reasons"]] == ["project-not-approved"]
    unknown = decision(client, auth, f"{HOSPITAL_SYSTEM}|P-404", study).json()
    assert [r["code"] for r in unknown["reasons"]] == ["unknown-person"]
    assert_problem(decision(client, auth, "no-bar-here", study), 400)
    assert_problem(decision(client, auth, f"{HOSPITAL_SYSTEM}|P-0001", study, project="not-a-uuid"), 400)


# -- the person sees it all -------------------------------------------------------------------------------------


def test_the_person_sees_the_fhir_consent_read_and_the_full_reason(client, auth, hospital, patients, study):
    alice = patients["alice"]
    opt_out(alice)
    assert fhir_consent(client, auth, f"{HOSPITAL_SYSTEM}|P-0001").json()["total"] == 4
    assert decision(client, auth, f"{HOSPITAL_SYSTEM}|P-0001", study).json()["reasons"][0]["code"] == "not-releasable"
    read = DecisionAudit.objects.get(person=alice, channel="fhir")
    assert (read.organisation_id, read.project_id, read.consent_version) == (hospital.pk, None, 1)
    assert read.client_id != ""
    assert alice.user is not None
    sign_in(client, alice.user.email)
    page = client.get("/me/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"{hospital.name} read the choices (FHIR Consent read)" in page
    assert "every use other than care was stopped" in page
    japanese = client.get("/me/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "FHIR Consent" in japanese and hospital.name in japanese


def test_every_fhir_consent_read_is_recorded_once(client, auth, patients):
    for _ in range(2):
        fhir_consent(client, auth, f"{HOSPITAL_SYSTEM}|P-0001")
    fhir_consent(client, auth, f"{HOSPITAL_SYSTEM}|P-404")
    assert DecisionAudit.objects.filter(channel="fhir").count() == 2
    assert set(DecisionAudit.objects.values_list("person_id", flat=True)) == {patients["alice"].pk}
