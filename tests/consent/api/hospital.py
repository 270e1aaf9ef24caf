"""Hospital-side fixtures for the API contract tests: two hospitals with API clients, patients linked to them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from consent import services as consent_services
from consent.api_clients import issue_token, register_client
from consent.models import ApiScope, Project
from phr import services as phr_services
from phr.models import Organisation, Person
from phr.models.parties import OrganisationKind

HOSPITAL_SYSTEM = "urn:mamori:test:tokyo-general"
OTHER_SYSTEM = "urn:mamori:test:osaka-central"
ALL_SCOPES = [scope.value for scope in ApiScope]


def make_hospital(name: str, system: str) -> Organisation:
    return phr_services.create_organisation(
        name=name, kind=OrganisationKind.HOSPITAL, actor=None, patient_number_system=system
    )


def bearer(organisation: Organisation, *scopes: str) -> dict[str, str]:
    """Authorization header of a fresh token of a new client of ``organisation`` with ``scopes``."""
    client, _ = register_client(
        organisation=organisation, actor=None, name="EHR", allowed_scopes=ALL_SCOPES, with_secret=True
    )
    return {"Authorization": f"Bearer {issue_token(client=client, scopes=scopes or ALL_SCOPES)}"}


def link(person: Person, system: str, value: str) -> None:
    phr_services.link_identifier(person=person, system=system, value=value, actor=None)


def accept(person: Person, project: Project) -> None:
    assert person.user is not None
    consent_services.decide_project(person=person, actor=person.user, project=project, accept=True)


def decline(person: Person, project: Project) -> None:
    assert person.user is not None
    consent_services.decide_project(person=person, actor=person.user, project=project, accept=False)


def post_json(client: Client, url: str, body: object, headers: dict[str, str]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def linkage_system() -> str:
    return str(settings.MAMORI_LINKAGE_SYSTEM)


@pytest.fixture
def hospital(db) -> Organisation:
    return make_hospital("東京総合病院", HOSPITAL_SYSTEM)


@pytest.fixture
def other_hospital(db) -> Organisation:
    return make_hospital("大阪中央病院", OTHER_SYSTEM)


@pytest.fixture
def auth(hospital: Organisation) -> dict[str, str]:
    return bearer(hospital)


@pytest.fixture
def patients(alice: Person, bob: Person) -> dict[str, Person]:
    """alice is P-0001 at the hospital, bob P-0002; alice also holds a linkage id."""
    link(alice, HOSPITAL_SYSTEM, "P-0001")
    link(bob, HOSPITAL_SYSTEM, "P-0002")
    link(alice, linkage_system(), "L-ALICE")
    return {"alice": alice, "bob": bob}
