"""Contract of GET /api/v1/decisions: one person's decision, scoped token, problem+json errors, audited."""

from __future__ import annotations

from typing import Any

from django.test import Client

from consent.models import DecisionAudit, Project
from phr.models import Organisation, Person
from tests.consent.api.hospital import (
    HOSPITAL_SYSTEM,
    OTHER_SYSTEM,
    accept,
    assert_problem,
    auth,
    bearer,
    decline,
    hospital,
    linkage_system,
    other_hospital,
    patients,
)

__all__ = ["auth", "hospital", "other_hospital", "patients"]

URL = "/api/v1/decisions"


def check(client: Client, headers: dict[str, str], identifier: str, project: Project, **extra: Any) -> Any:
    return client.get(URL, {"identifier": identifier, "project": str(project.pk), **extra}, headers=headers)


def test_it_permits_a_patient_who_accepted_the_project(client, auth, patients, study):
    accept(patients["alice"], study)
    response = check(client, auth, f"{HOSPITAL_SYSTEM}|P-0001", study)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {
        "identifier",
        "project",
        "decision",
        "categories",
        "reasons",
        "obligations",
        "consent_version",
        "evaluated_at",
    }
    assert body["identifier"] == f"{HOSPITAL_SYSTEM}|P-0001"
    assert body["project"] == str(study.pk)
    assert body["decision"] == "permit"
    assert set(body["categories"]) == set(study.data_categories)
    assert all(c["decision"] == "permit" for c in body["categories"].values())
    assert body["consent_version"] == 1


def test_it_denies_a_patient_who_declined_with_reasons(client, auth, patients, study):
    decline(patients["bob"], study)
    body = check(client, auth, f"{HOSPITAL_SYSTEM}|P-0002", study).json()
    assert body["decision"] == "deny"
    assert body["reasons"] and all({"code", "message"} == set(r) for r in body["reasons"])


def test_it_finds_a_person_by_the_linkage_system(client, auth, patients, study):
    accept(patients["alice"], study)
    assert check(client, auth, f"{linkage_system()}|L-ALICE", study).json()["decision"] == "permit"


def test_it_denies_an_unknown_person_with_unknown_person(client, auth, patients, study):
    body = check(client, auth, f"{HOSPITAL_SYSTEM}|P-9999", study).json()
    assert body["decision"] == "deny"
    assert [r["code"] for r in body["reasons"]] == ["unknown-person"]
    assert body["consent_version"] is None


def test_it_limits_the_answer_to_the_categories_asked(client, auth, patients, study):
    accept(patients["alice"], study)
    body = check(client, auth, f"{HOSPITAL_SYSTEM}|P-0001", study, category="diagnoses").json()
    assert list(body["categories"]) == ["diagnoses"]


def test_it_denies_an_unknown_category(client, auth, patients, study):
    accept(patients["alice"], study)
    body = check(client, auth, f"{HOSPITAL_SYSTEM}|P-0001", study, category="horoscope").json()
    assert body["decision"] == "deny"


def test_it_answers_in_english_when_asked(client, auth, patients, study):
    ja = check(client, auth, f"{HOSPITAL_SYSTEM}|P-9999", study).json()
    en = client.get(
        URL,
        {"identifier": f"{HOSPITAL_SYSTEM}|P-9999", "project": str(study.pk)},
        headers={**auth, "Accept-Language": "en"},
    ).json()
    assert ja["reasons"][0]["message"] != en["reasons"][0]["message"]


def test_it_refuses_a_malformed_identifier_naming_the_problem(client, auth, study):
    body = assert_problem(check(client, auth, "P-0001", study), 400)
    assert "SYSTEM|VALUE" in body["detail"]
    assert body["errors"][0]["pointer"] == "/identifier"


def test_it_refuses_another_hospitals_numbers(client, auth, other_hospital, study):
    body = assert_problem(check(client, auth, f"{OTHER_SYSTEM}|P-0001", study), 400)
    assert "system" in body["detail"]


def test_it_needs_the_project(client, auth, patients):
    assert_problem(client.get(URL, {"identifier": f"{HOSPITAL_SYSTEM}|P-0001"}, headers=auth), 400)


def test_it_answers_404_for_an_unknown_project(client, auth, patients):
    response = client.get(
        URL,
        {"identifier": f"{HOSPITAL_SYSTEM}|P-0001", "project": "00000000-0000-0000-0000-000000000000"},
        headers=auth,
    )
    assert_problem(response, 404)


def test_it_needs_a_token(client, patients, study):
    assert_problem(check(client, {}, f"{HOSPITAL_SYSTEM}|P-0001", study), 401)


def test_it_needs_the_consent_check_scope(client, hospital, patients, study):
    headers = bearer(hospital, "consent.changes")
    body = assert_problem(check(client, headers, f"{HOSPITAL_SYSTEM}|P-0001", study), 403)
    assert "consent.check" in body["detail"]


def test_it_records_who_asked_about_whom(client, hospital: Organisation, auth, patients, study):
    accept(patients["alice"], study)
    check(client, auth, f"{HOSPITAL_SYSTEM}|P-0001", study)
    check(client, auth, f"{HOSPITAL_SYSTEM}|P-9999", study)
    [audit] = DecisionAudit.objects.all()
    alice: Person = patients["alice"]
    assert (audit.person_id, audit.organisation_id, audit.project_id) == (alice.pk, hospital.pk, study.pk)
    assert (audit.channel, audit.decision, audit.consent_version) == ("single", "permit", 1)


def test_it_shows_the_person_who_checked_their_choices(client, hospital, auth, patients, study):
    from consent.selectors import decision_checks_of

    check(client, auth, f"{HOSPITAL_SYSTEM}|P-0001", study)
    [seen] = decision_checks_of(patients["alice"])
    assert seen.organisation.name == hospital.name
    assert seen.project == study


def test_the_person_sees_the_check_on_their_dashboard(client, auth, patients, study, hospital):
    from tests.conftest import sign_in

    check(client, auth, f"{HOSPITAL_SYSTEM}|P-0001", study)
    alice: Person = patients["alice"]
    assert alice.user is not None
    sign_in(client, alice.user.email)
    page = client.get("/me/").content.decode()
    assert hospital.name in page
    assert study.title_ja in page


def test_a_malformed_project_id_is_400(client, auth, patients):
    response = client.get(URL, {"identifier": f"{HOSPITAL_SYSTEM}|P-0001", "project": "study-7"}, headers=auth)
    assert assert_problem(response, 400)["errors"][0]["pointer"] == "/project"
