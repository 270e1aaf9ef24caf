"""Contract of GET /api/v1/projects: the public register of approved projects."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from consent.models import ProjectStatus
from tests.consent.conftest import make_project


def test_it_lists_approved_projects_without_authentication(client, study, trial, university):
    make_project(university, status=ProjectStatus.DRAFT, title_ja="下書き")
    response = client.get("/api/v1/projects")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["count"] == 2
    assert {p["id"] for p in body["projects"]} == {str(study.pk), str(trial.pk)}
    listed = next(p for p in body["projects"] if p["id"] == str(study.pk))
    assert listed["organisation"] == university.name
    assert listed["data_categories"] == study.data_categories
    assert listed["purpose_class"] == study.purpose_class


def test_it_lists_in_one_query(client, study, trial):
    with CaptureQueriesContext(connection) as captured:
        client.get("/api/v1/projects")
    assert len(captured) == 1


def test_it_refuses_other_methods_as_a_problem(client):
    response = client.post("/api/v1/projects")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
