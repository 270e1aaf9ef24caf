"""Contract of POST /api/v1/releases and the releases ledger (its tamper-evident log: tests/phr/tlog/)."""

from __future__ import annotations

import pytest

from consent.models import LedgerEntry, Release
from consent.models.ledger import AppendOnly
from tests.consent.api.hospital import (
    HOSPITAL_SYSTEM,
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

URL = "/api/v1/releases"


def body(study, *values: str) -> dict:
    return {"project": str(study.pk), "identifiers": [{"system": HOSPITAL_SYSTEM, "value": v} for v in values]}


def release(client, auth, payload, key="key-1"):
    return post_json(client, URL, payload, {**auth, "Idempotency-Key": key})


def test_it_records_the_permitted_and_refuses_the_rest(client, auth, patients, study):
    accept(patients["alice"], study)
    decline(patients["bob"], study)
    response = release(client, auth, body(study, "P-0001", "P-0002", "P-9"))
    assert response.status_code == 201, response.content
    answer = response.json()
    assert set(answer) == {"id", "accepted", "refused"}
    assert answer["accepted"] == 1
    assert [r["identifier"]["value"] for r in answer["refused"]] == ["P-0002", "P-9"]
    assert answer["refused"][1]["reasons"][0]["code"] == "unknown-person"
    [entry] = LedgerEntry.objects.all()
    assert entry.person_id == patients["alice"].pk
    assert entry.log_entry is not None and entry.log_entry.log == "ledger"


def test_the_same_key_and_body_give_the_same_answer_once(client, auth, patients, study):
    accept(patients["alice"], study)
    first = release(client, auth, body(study, "P-0001"))
    second = release(client, auth, body(study, "P-0001"))
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert LedgerEntry.objects.count() == 1


def test_the_same_key_with_another_body_is_422(client, auth, patients, study):
    release(client, auth, body(study, "P-0001"))
    assert_problem(release(client, auth, body(study, "P-0002")), 422)


def test_it_requires_an_idempotency_key(client, auth, patients, study):
    problem = assert_problem(post_json(client, URL, body(study, "P-0001"), auth), 400)
    assert "Idempotency-Key" in problem["detail"]


def test_it_needs_the_release_write_scope(client, hospital, patients, study):
    assert_problem(release(client, bearer(hospital, "consent.check"), body(study, "P-0001")), 403)


def test_another_organisation_cannot_see_a_release(client, auth, other_hospital, patients, study):
    made = release(client, auth, body(study, "P-0001")).json()
    assert client.get(f"{URL}/{made['id']}", headers=auth).json() == made
    assert_problem(client.get(f"{URL}/{made['id']}", headers=bearer(other_hospital)), 404)


def test_keys_are_per_organisation(client, auth, other_hospital, patients, study):
    release(client, auth, body(study, "P-0001"))
    other = post_json(
        client,
        URL,
        {"project": str(study.pk), "identifiers": []},
        {**bearer(other_hospital), "Idempotency-Key": "key-1"},
    )
    assert other.status_code == 201
    assert Release.objects.count() == 2


def test_entries_cannot_be_changed_or_deleted_through_the_orm(client, auth, patients, study):
    accept(patients["alice"], study)
    release(client, auth, body(study, "P-0001"))
    entry = LedgerEntry.objects.get()
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
