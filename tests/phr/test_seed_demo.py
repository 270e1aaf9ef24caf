"""The demo seed makes what the README promises and changes nothing when run again."""

from __future__ import annotations

import io

import pytest
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from phr.demo import data
from phr.models import Membership, Organisation, Person, Proxy, User
from phr.models.parties import OrganisationKind, Role


def _counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "people": Person.objects.count(),
        "organisations": Organisation.objects.count(),
        "memberships": Membership.objects.count(),
        "proxies": Proxy.objects.count(),
        "authenticators": Authenticator.objects.count(),
    }


@pytest.fixture
def seeded(db) -> dict[str, int]:
    call_command("seed_demo", stdout=io.StringIO())
    return _counts()


def test_it_makes_the_demo_population(seeded: dict[str, int]) -> None:
    assert seeded["people"] == 50
    kinds = list(Organisation.objects.values_list("kind", flat=True))
    assert kinds.count(OrganisationKind.HOSPITAL) == 3
    assert {OrganisationKind.ACADEMIC, OrganisationKind.COMMERCIAL, OrganisationKind.PUBLIC} <= set(kinds)
    roles = set(Membership.objects.values_list("role", flat=True))
    assert {Role.REVIEWER, Role.CAMPAIGN_MANAGER, Role.OPERATOR_ADMIN} <= roles
    assert seeded["proxies"] == 2


def test_every_citizen_has_a_linkage_id_and_one_to_three_patient_numbers(seeded: dict[str, int]) -> None:
    hospital_systems = set(
        Organisation.objects.exclude(patient_number_system=None).values_list("patient_number_system", flat=True)
    )
    for person in Person.objects.prefetch_related("identifiers"):
        systems = [i.system for i in person.identifiers.all()]
        assert settings.MAMORI_LINKAGE_SYSTEM in systems
        assert 1 <= len(set(systems) & hospital_systems) <= 3


def test_running_it_again_changes_nothing(seeded: dict[str, int]) -> None:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert _counts() == seeded
    assert "nothing new" in out.getvalue()


def test_the_demo_logins_work(seeded: dict[str, int], client: Client) -> None:
    response = client.post(
        "/accounts/login/", {"login": f"citizen01@{data.EMAIL_DOMAIN}", "password": data.DEMO_PASSWORD}
    )
    assert response.status_code == 302
    page = client.get("/me/").content.decode()
    assert "陽向" in page  # the parent sees the child they act for


def test_demo_staff_complete_mfa_with_the_printed_code(seeded: dict[str, int], client: Client) -> None:
    response = client.post(
        "/accounts/login/", {"login": f"reviewer@{data.EMAIL_DOMAIN}", "password": data.DEMO_PASSWORD}
    )
    assert response["Location"].startswith("/accounts/2fa/authenticate")
    code = io.StringIO()
    call_command("demo_logins", "--code", stdout=code)
    response = client.post(response["Location"], {"code": code.getvalue().strip()})
    assert response.status_code == 302
    assert client.get("/staff/").status_code == 200
