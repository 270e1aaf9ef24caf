"""The single-decision short path: per-process caches of tokens, regimes and projects, one statement to read
the person, one to audit. It must answer exactly as the engine does from the database, and see changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent import selectors
from consent.api_clients import issue_token, register_client
from consent.disclosure import hospital_reasons
from consent.models import AccessToken, DecisionAudit, Notice, NoticeChannel, NoticeStatus, Project, ProjectStatus
from phr.models import Organisation, Person
from tests.conftest import make_citizen
from tests.consent.api.hospital import (
    HOSPITAL_SYSTEM,
    accept,
    assert_problem,
    auth,
    decline,
    hospital,
    link,
    patients,
)
from tests.consent.conftest import long_ago, make_project, notify

__all__ = ["auth", "hospital", "patients"]

URL = "/api/v1/decisions"


def check(client, headers, number: str, project: Project, **extra):
    return client.get(
        URL, {"identifier": f"{HOSPITAL_SYSTEM}|{number}", "project": str(project.pk), **extra}, headers=headers
    )


def engine_answer(person: Person, project: Project) -> tuple[str, list[str], int | None]:
    """The engine's answer as a hospital is told it (person-specific reasons neutral)."""
    decision = selectors.decide_for_person(person, selectors.project_request(project))
    return decision.verdict.value, [r.code for r in hospital_reasons(decision)], decision.consent_version


def full_reasons(person: Person, project: Project) -> list[str]:
    decision = selectors.decide_for_person(person, selectors.project_request(project))
    return [r.code for r in decision.reasons]


def test_it_answers_as_the_engine_does_for_every_kind_of_person(client, auth, patients, study):
    alice, bob = patients["alice"], patients["bob"]
    notified, recent, failed, other = (
        make_citizen(f"{name}@example.test", "山田", name) for name in ("noticed", "recent", "failed", "other")
    )
    accept(alice, study)
    decline(bob, study)
    notify(notified, study, at=long_ago())  # notified long ago, no objection: permitted after the window
    notify(recent, study, at=timezone.now() - timedelta(days=1))  # still inside the objection window
    Notice.objects.create(person=failed, project=study, channel=NoticeChannel.EMAIL, status=NoticeStatus.FAILED)
    notify(other, make_project(study.organisation, title_ja="別の研究"), at=long_ago())  # another project's notice
    people = {"P-0001": alice, "P-0002": bob, "P-0003": notified, "P-0004": recent, "P-0005": failed, "P-0006": other}
    for number, person in list(people.items())[2:]:
        link(person, HOSPITAL_SYSTEM, number)
    for number, person in people.items():
        body = check(client, auth, number, study).json()
        verdict, reasons, version = engine_answer(person, study)
        assert (body["decision"], [r["code"] for r in body["reasons"]], body["consent_version"]) == (
            verdict,
            reasons,
            version,
        ), number
        # The person's own record of the check keeps the engine's full reasons.
        audited = DecisionAudit.objects.filter(person=person).latest("at")
        assert audited.reasons == full_reasons(person, study), number
    assert {body_decision for body_decision in DecisionAudit.objects.values_list("decision", flat=True)} == {
        "permit",
        "deny",
    }


def test_a_known_persons_check_reads_once_and_writes_once(client, auth, patients, study):
    accept(patients["alice"], study)
    check(client, auth, "P-0001", study)  # verifies the token and loads the project into the process cache
    with CaptureQueriesContext(connection) as captured:
        assert check(client, auth, "P-0001", study).json()["decision"] == "permit"
    # The rate limit's counter (Redis, or the database cache table and its savepoint) is not the decision's.
    statements = [q["sql"] for q in captured if "mamori_cache" not in q["sql"] and "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 2, statements
    # On PostgreSQL the two are functions (their plans kept by the session), elsewhere plain statements.
    assert "phr_identifier" in statements[0] or "consent_snapshot(" in statements[0]
    assert "consent_decisionaudit" in statements[1] or "consent_record_decision(" in statements[1]
    assert DecisionAudit.objects.filter(person=patients["alice"], channel="single").count() == 2


def test_a_project_closed_in_this_process_is_denied_at_once(client, auth, patients, study):
    accept(patients["alice"], study)
    assert check(client, auth, "P-0001", study).json()["decision"] == "permit"
    study.status = ProjectStatus.CLOSED
    study.save()
    assert check(client, auth, "P-0001", study).json()["decision"] == "deny"


def test_a_project_closed_by_another_process_is_seen_within_the_cache_lifetime(client, auth, patients, study, settings):
    accept(patients["alice"], study)
    assert check(client, auth, "P-0001", study).json()["decision"] == "permit"
    Project.objects.filter(pk=study.pk).update(status=ProjectStatus.CLOSED)  # no signal, as from another worker
    settings.MAMORI_REFERENCE_CACHE_SECONDS = 0  # the lifetime has passed
    assert check(client, auth, "P-0001", study).json()["decision"] == "deny"


def test_a_persons_new_choice_counts_on_the_next_check(client, auth, patients, study):
    assert check(client, auth, "P-0001", study).json()["decision"] == "deny"
    accept(patients["alice"], study)
    assert check(client, auth, "P-0001", study).json()["decision"] == "permit"


def token_headers(hospital: Organisation) -> dict[str, str]:
    api_client, _ = register_client(
        organisation=hospital, actor=None, name="EHR", allowed_scopes=["consent.check"], with_secret=True
    )
    return {"Authorization": f"Bearer {issue_token(client=api_client, scopes=['consent.check'])}"}


def test_a_token_deleted_by_another_process_is_refused_once_the_cache_lifetime_passed(
    client, hospital: Organisation, patients, study, settings
):
    headers = token_headers(hospital)
    assert check(client, headers, "P-0001", study).status_code == 200
    AccessToken.objects.all()._raw_delete(AccessToken.objects.db)  # no signal, as from another worker
    assert check(client, headers, "P-0001", study).status_code == 200  # served from this process's cache
    settings.MAMORI_API_AUTH_CACHE_SECONDS = 0
    assert_problem(check(client, headers, "P-0001", study), 401)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the relaxed commit is PostgreSQL's")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_relaxed_commit_of_the_audit_row_does_not_outlive_its_statement(client, hospital, alice, study):
    link(alice, HOSPITAL_SYSTEM, "P-0001")
    headers = token_headers(hospital)
    assert check(client, headers, "P-0001", study).status_code == 200
    assert DecisionAudit.objects.filter(person=alice).count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
