"""The one role policy: which role gives which staff power, and where (phr/roles.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from phr import roles, services
from phr.models import Organisation, User
from phr.models.parties import OrganisationKind, Role
from phr.roles import Action
from tests.conftest import make_user

# Every power an operator-organisation role gives, wherever it is used. Anything not listed: refused.
OPERATOR_POWERS: dict[Role, set[Action]] = {
    Role.RESEARCHER: {Action.VIEW_STAFF_AREA},
    Role.REVIEWER: {Action.VIEW_STAFF_AREA, Action.REVIEW_PROJECTS},
    Role.CAMPAIGN_MANAGER: {Action.VIEW_STAFF_AREA, Action.RUN_CAMPAIGNS, Action.APPROVE_CAMPAIGNS},
    Role.ORG_ADMIN: {Action.VIEW_STAFF_AREA},
    Role.OPERATOR_ADMIN: {
        Action.VIEW_STAFF_AREA,
        Action.ACT_FOR_PERSON,
        Action.GRANT_PROXY,
        Action.MANAGE_MEMBERSHIPS,
        Action.LINK_PATIENT,
        Action.MANAGE_ENDPOINTS,
        Action.MANAGE_API_CLIENTS,
        Action.MANAGE_REGIMES,
        Action.REVIEW_BREAK_GLASS,
        Action.APPROVE_CAMPAIGNS,
        Action.VIEW_LOG_STATUS,
    },
    Role.BREAK_GLASS: {Action.VIEW_STAFF_AREA, Action.BREAK_GLASS},
}

# What a role held in a hospital gives on that same hospital. A hospital's role gives nothing on another.
HOSPITAL_POWERS: dict[Role, set[Action]] = {
    Role.RESEARCHER: {Action.VIEW_STAFF_AREA},
    Role.REVIEWER: {Action.VIEW_STAFF_AREA},
    Role.CAMPAIGN_MANAGER: {Action.VIEW_STAFF_AREA},
    Role.ORG_ADMIN: {
        Action.VIEW_STAFF_AREA,
        Action.MANAGE_MEMBERSHIPS,
        Action.LINK_PATIENT,
        Action.MANAGE_API_CLIENTS,
    },
    Role.BREAK_GLASS: {Action.VIEW_STAFF_AREA},
}


@pytest.fixture
def other_hospital(db) -> Organisation:
    return services.create_organisation(
        name="西都病院", kind=OrganisationKind.HOSPITAL, actor=None, patient_number_system="urn:oid:1.2.392.2"
    )


def _holding(role: Role, organisation: Organisation) -> User:
    user = make_user(f"{role.value}@{'operator' if organisation.is_operator else 'hospital'}.example.test")
    services.add_membership(user=user, organisation=organisation, role=role, actor=None)
    return user


@pytest.mark.parametrize("role", list(OPERATOR_POWERS))
@pytest.mark.parametrize("action", list(Action))
def test_a_role_in_the_operator_gives_exactly_its_powers_everywhere(
    role: Role, action: Action, operator: Organisation, hospital: Organisation
) -> None:
    user = _holding(role, operator)
    expected = action in OPERATOR_POWERS[role]
    # An organisation administrator of the operator has the hospital administrator's powers over it, no more.
    on_operator = expected or (role is Role.ORG_ADMIN and action in HOSPITAL_POWERS[Role.ORG_ADMIN])

    assert roles.can(user, action) is expected
    assert roles.can(user, action, organisation=hospital) is expected
    assert roles.can(user, action, organisation=operator) is on_operator


@pytest.mark.parametrize("role", list(HOSPITAL_POWERS))
@pytest.mark.parametrize("action", list(Action))
def test_a_role_in_a_hospital_gives_its_powers_there_and_nowhere_else(
    role: Role, action: Action, hospital: Organisation, other_hospital: Organisation
) -> None:
    user = _holding(role, hospital)
    own = action in HOSPITAL_POWERS[role]
    # Only the staff area is open without naming an organisation; the rest is about one hospital.
    anywhere = action is Action.VIEW_STAFF_AREA

    assert roles.can(user, action, organisation=hospital) is own
    assert roles.can(user, action, organisation=other_hospital) is anywhere
    assert roles.can(user, action) is anywhere


@pytest.mark.parametrize("action", list(Action))
def test_a_superuser_without_a_role_may_do_nothing(action: Action, operator: Organisation) -> None:
    root = User.objects.create_superuser(email="root@example.test", password="x")

    assert not roles.can(root, action)
    assert not roles.can(root, action, organisation=operator)
    with pytest.raises(PermissionDenied):
        roles.require(root, action)


def test_a_citizen_holds_no_staff_power_and_is_not_staff(alice) -> None:
    assert not roles.is_staff(alice.user)
    assert not any(roles.can(alice.user, action) for action in Action)


def test_every_role_makes_its_holder_staff_who_needs_a_second_factor(hospital: Organisation) -> None:
    for role in HOSPITAL_POWERS:
        assert roles.is_staff(_holding(role, hospital))


def test_whoever_may_open_the_django_admin_is_staff_for_the_second_factor(db) -> None:
    assert roles.is_staff(User.objects.create_superuser(email="root@example.test", password="x"))


def test_a_deactivated_administrator_may_do_nothing(erin: User) -> None:
    erin.is_active = False
    erin.save(update_fields=["is_active"])

    assert not roles.is_staff(erin)
    assert not roles.can(erin, Action.GRANT_PROXY)


def test_an_operator_administrator_manages_the_clients_of_every_organisation(
    erin: User, hospital: Organisation, other_hospital: Organisation
) -> None:
    allowed = roles.restrict(Organisation.objects.all(), erin, Action.MANAGE_API_CLIENTS)

    assert set(allowed) == set(Organisation.objects.all())


def test_an_organisation_administrator_manages_only_their_own_clients(
    hospital: Organisation, other_hospital: Organisation, operator: Organisation
) -> None:
    frank = _holding(Role.ORG_ADMIN, hospital)

    assert list(roles.restrict(Organisation.objects.all(), frank, Action.MANAGE_API_CLIENTS)) == [hospital]
    assert list(roles.restrict(Organisation.objects.all(), frank, Action.MANAGE_REGIMES)) == []


def test_a_restricted_listing_of_rows_keeps_those_of_the_allowed_organisations(
    hospital: Organisation, other_hospital: Organisation
) -> None:
    from consent.api_clients import register_client
    from consent.models import ApiClient

    ours, _ = register_client(
        organisation=hospital, actor=None, name="ours", allowed_scopes=["consent.check"], with_secret=True
    )
    register_client(
        organisation=other_hospital, actor=None, name="theirs", allowed_scopes=["consent.check"], with_secret=True
    )
    frank = _holding(Role.ORG_ADMIN, hospital)

    assert list(roles.restrict(ApiClient.objects.all(), frank, Action.MANAGE_API_CLIENTS)) == [ours]
