"""The staff roles page: an organisation administrator gives and takes their own organisation's roles, audited;
the operator's roles and emergency access are never given here, and another organisation's roles are out of
reach."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.test import Client

from phr import services
from phr.models import AuditEvent, Membership, Organisation, User
from phr.models.parties import OrganisationKind, Role
from tests.conftest import PASSWORD, TOTP_SECRET, make_user, sign_in_with_totp


def sign_in_and_confirm(client: Client, email: str) -> None:
    """Sign in with TOTP, then confirm the password as the pages that change roles ask."""
    sign_in_with_totp(client, email)
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302


@pytest.fixture
def frank(hospital: Organisation) -> User:
    user = make_user("frank@example.test")
    services.add_membership(user=user, organisation=hospital, role=Role.ORG_ADMIN, actor=None)
    TOTP.activate(user, TOTP_SECRET)
    return user


@pytest.fixture
def other_hospital(db) -> Organisation:
    return services.create_organisation(name="西都病院", kind=OrganisationKind.HOSPITAL, actor=None)


@pytest.fixture
def ren(db) -> User:
    return make_user("ren@example.test")


def test_an_organisation_administrator_gives_a_researcher_role_with_an_audit_event(
    client: Client, frank: User, hospital: Organisation, ren: User
) -> None:
    sign_in_and_confirm(client, frank.email)

    response = client.post(
        "/staff/memberships/add/", {"email": ren.email, "organisation": hospital.pk, "role": Role.RESEARCHER}
    )

    assert response.status_code == 302
    assert Membership.objects.filter(user=ren, organisation=hospital, role=Role.RESEARCHER).exists()
    event = AuditEvent.objects.get(action="membership.added", actor=frank)
    assert event.detail["role"] == Role.RESEARCHER
    assert ren.email in client.get("/staff/memberships/").content.decode()


@pytest.mark.parametrize("role", [Role.BREAK_GLASS, Role.OPERATOR_ADMIN, Role.REVIEWER])
def test_the_page_never_gives_emergency_access_or_an_operator_role(
    client: Client, erin: User, hospital: Organisation, operator: Organisation, role: Role
) -> None:
    sign_in_and_confirm(client, erin.email)

    for organisation in (hospital, operator):
        response = client.post(
            "/staff/memberships/add/", {"email": erin.email, "organisation": organisation.pk, "role": role}
        )
        assert response.status_code == 200
    assert not Membership.objects.filter(user=erin).exclude(role=Role.OPERATOR_ADMIN).exists()


def test_another_organisations_roles_are_out_of_reach(
    client: Client, frank: User, other_hospital: Organisation, ren: User
) -> None:
    theirs = services.add_membership(user=ren, organisation=other_hospital, role=Role.RESEARCHER, actor=None)
    sign_in_and_confirm(client, frank.email)

    planted = client.post(
        "/staff/memberships/add/", {"email": ren.email, "organisation": other_hospital.pk, "role": Role.ORG_ADMIN}
    )
    removed = client.post(f"/staff/memberships/{theirs.pk}/remove/")

    assert planted.status_code == 200
    assert removed.status_code == 404
    assert list(Membership.objects.filter(user=ren).values_list("role", flat=True)) == [Role.RESEARCHER]
    assert ren.email not in client.get("/staff/memberships/").content.decode()


def test_an_organisation_administrator_takes_a_role_away_with_an_audit_event(
    client: Client, frank: User, hospital: Organisation, ren: User
) -> None:
    membership = services.add_membership(user=ren, organisation=hospital, role=Role.RESEARCHER, actor=None)
    sign_in_and_confirm(client, frank.email)

    response = client.post(f"/staff/memberships/{membership.pk}/remove/")

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert AuditEvent.objects.filter(action="membership.removed", actor=frank).count() == 1


def test_a_reviewer_may_not_open_the_roles_page(client: Client, dave: User) -> None:
    sign_in_with_totp(client, dave.email)

    assert client.get("/staff/memberships/").status_code == 403
