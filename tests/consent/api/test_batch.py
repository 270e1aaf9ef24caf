"""Contract of POST /api/v1/decisions:batch: results in input order, index-named errors, 413, set-based."""

from __future__ import annotations

from collections import Counter

from django.db import connection
from django.test.utils import CaptureQueriesContext

from consent.models import DecisionAudit
from tests.consent.api.hospital import (
    HOSPITAL_SYSTEM,
    OTHER_SYSTEM,
    accept,
    assert_problem,
    auth,
    bearer,
    decline,
    hospital,
    other_hospital,
    patients,
    post_json,
)

__all__ = ["auth", "hospital", "other_hospital", "patients"]

URL = "/api/v1/decisions:batch"


def ids(*values: str) -> list[dict[str, str]]:
    return [{"system": HOSPITAL_SYSTEM, "value": value} for value in values]


def test_it_answers_in_input_order(client, auth, patients, study):
    accept(patients["alice"], study)
    decline(patients["bob"], study)
    response = post_json(client, URL, {"project": str(study.pk), "identifiers": ids("P-0002", "P-9", "P-0001")}, auth)
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["identifier"]["value"] for r in results] == ["P-0002", "P-9", "P-0001"]
    assert [r["decision"] for r in results] == ["deny", "deny", "permit"]
    assert results[1]["reasons"][0]["code"] == "unknown-person"


def test_it_agrees_with_the_single_endpoint(client, auth, patients, study):
    accept(patients["alice"], study)
    batch = post_json(client, URL, {"project": str(study.pk), "identifiers": ids("P-0001", "P-0002")}, auth).json()
    for result in batch["results"]:
        single = client.get(
            "/api/v1/decisions",
            {"identifier": f"{HOSPITAL_SYSTEM}|{result['identifier']['value']}", "project": str(study.pk)},
            headers=auth,
        ).json()
        assert {k: v for k, v in single.items() if k not in {"identifier", "evaluated_at"}} == {
            k: v for k, v in result.items() if k not in {"identifier", "evaluated_at"}
        }


def test_it_names_the_index_of_a_malformed_identifier(client, auth, patients, study):
    body = {"project": str(study.pk), "identifiers": [*ids("P-0001"), {"system": HOSPITAL_SYSTEM}, "x"]}
    problem = assert_problem(post_json(client, URL, body, auth), 400)
    assert [e["pointer"] for e in problem["errors"]] == ["/identifiers/1", "/identifiers/2"]


def test_it_refuses_another_hospitals_system_by_index(client, auth, other_hospital, study):
    body = {"project": str(study.pk), "identifiers": [{"system": OTHER_SYSTEM, "value": "1"}]}
    assert assert_problem(post_json(client, URL, body, auth), 400)["errors"][0]["pointer"] == "/identifiers/0"


def test_it_refuses_a_body_without_identifiers_or_project(client, auth):
    problem = assert_problem(post_json(client, URL, {}, auth), 400)
    assert {e["pointer"] for e in problem["errors"]} == {"/identifiers", "/project"}


def test_it_refuses_more_than_ten_thousand_with_413(client, auth, study):
    body = {"project": str(study.pk), "identifiers": ids(*(str(n) for n in range(10_001)))}
    assert_problem(post_json(client, URL, body, auth), 413)


def test_it_refuses_malformed_json(client, auth):
    response = client.post(URL, data="{", content_type="application/json", headers=auth)
    assert_problem(response, 400)


def test_it_needs_the_consent_check_scope(client, hospital, study):
    assert_problem(
        post_json(client, URL, {"project": str(study.pk), "identifiers": []}, bearer(hospital, "consent.bulk")), 403
    )


def test_it_uses_a_fixed_number_of_queries_whatever_the_size(client, auth, patients, study, alice):
    def queries(count: int) -> int:
        body = {"project": str(study.pk), "identifiers": ids(*(f"P-{n:04d}" for n in range(count)))}
        with CaptureQueriesContext(connection) as captured:
            assert post_json(client, URL, body, auth).status_code == 200
        return len(captured)

    queries(1)  # the first request verifies the token; later ones find it in the process's token cache
    assert queries(3) == queries(1500)


def test_it_audits_one_row_per_known_person(client, auth, patients, study):
    post_json(client, URL, {"project": str(study.pk), "identifiers": ids("P-0001", "P-0002", "P-3")}, auth)
    assert sorted(DecisionAudit.objects.values_list("channel", flat=True)) == ["batch", "batch"]


def test_it_handles_ten_thousand_identifiers(client, auth, patients, study, bob):
    accept(patients["alice"], study)
    values = [f"P-{n:05d}" for n in range(9_998)] + ["P-0001", "P-0002"]
    response = post_json(client, URL, {"project": str(study.pk), "identifiers": ids(*values)}, auth)
    results = response.json()["results"]
    assert len(results) == 10_000
    assert results[-2]["decision"] == "permit"


def test_persons_in_the_same_state_keep_their_own_consent_version(client, auth, patients, study):
    """Persons with the same choices are decided once, but each answer carries that person's version."""
    alice, bob = patients["alice"], patients["bob"]
    accept(alice, study)
    accept(bob, study)
    decline(bob, study)
    accept(bob, study)
    batch = post_json(client, URL, {"project": str(study.pk), "identifiers": ids("P-0001", "P-0002")}, auth).json()
    versions = {r["identifier"]["value"]: (r["decision"], r["consent_version"]) for r in batch["results"]}
    for value in ("P-0001", "P-0002"):
        single = client.get(
            "/api/v1/decisions", {"identifier": f"{HOSPITAL_SYSTEM}|{value}", "project": str(study.pk)}, headers=auth
        ).json()
        assert versions[value] == ("permit", single["consent_version"])
    assert versions["P-0001"][1] != versions["P-0002"][1]
    audited = DecisionAudit.objects.filter(channel="batch").values_list("consent_version", flat=True)
    assert Counter(audited) == Counter(version for _, version in versions.values())
