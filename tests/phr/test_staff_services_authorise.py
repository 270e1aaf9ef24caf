"""Every service that changes who may see or decide for a person authorises its caller itself: an actor the
role policy does not allow is refused and nothing is written; an allowed one writes its change and exactly one
audit event. Roles beyond an organisation's own are given only by the grant_role command, which audits."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.utils import timezone

from consent import api_clients
from consent import services as consent_services
from consent.errors import ConsentNotAllowed
from phr import break_glass, services
from phr.errors import ProxyNotAllowed
from phr.fhir import services as fhir_services
from phr.models import (
    AuditEvent,
    BreakGlassGrant,
    Connection,
    FhirEndpoint,
    Identifier,
    Membership,
    Organisation,
    Person,
    Proxy,
    User,
)
from phr.models.fhir import AuthMode
from phr.models.parties import LegalBasis, OrganisationKind, ProxyScope, Role
from tests.conftest import make_user


@pytest.fixture
def frank(hospital: Organisation) -> User:
    """The hospital's organisation administrator."""
    user = make_user("frank@example.test")
    services.add_membership(user=user, organisation=hospital, role=Role.ORG_ADMIN, actor=None)
    return user


@pytest.fixture
def other_hospital(db) -> Organisation:
    return services.create_organisation(
        name="西都病院", kind=OrganisationKind.HOSPITAL, actor=None, patient_number_system="urn:oid:1.2.392.2"
    )


@pytest.fixture
def endpoint(hospital: Organisation) -> FhirEndpoint:
    return FhirEndpoint.objects.create(
        organisation=hospital,
        name="東都大学病院 FHIR",
        base_url="https://fhir.toto-hospital.example/r4",
        auth_mode=AuthMode.BACKEND_SERVICES,
        client_id="mamori",
    )


@pytest.fixture
def child(db) -> Person:
    today = date.today()
    return services.create_person(family_name="佐藤", given_name="蓮", birth_date=today.replace(year=today.year - 8))


class Audit:
    """Counts the audit events a block writes."""

    def __enter__(self) -> Audit:
        self.before = set(AuditEvent.objects.values_list("pk", flat=True))
        return self

    def __exit__(self, *exc: object) -> None:
        self.new = list(AuditEvent.objects.exclude(pk__in=self.before).order_by("pk"))

    @property
    def actions(self) -> list[str]:
        return [event.action for event in self.new]


# -- proxies ---------------------------------------------------------------------------------------------


def test_a_reviewer_cannot_record_a_proxy_and_nothing_is_written(dave: User, child: Person, carol: User) -> None:
    with Audit() as audit, pytest.raises(PermissionDenied):
        services.grant_proxy(
            person=child,
            proxy_user=carol,
            scope=ProxyScope.MANAGE_CONSENT,
            legal_basis=LegalBasis.PARENTAL,
            evidence="戸籍謄本",
            actor=dave,
        )

    assert not Proxy.objects.exists()
    assert audit.new == []


def test_an_organisation_administrator_cannot_record_a_proxy(frank: User, child: Person, carol: User) -> None:
    with pytest.raises(PermissionDenied):
        services.grant_proxy(
            person=child,
            proxy_user=carol,
            scope=ProxyScope.VIEW,
            legal_basis=LegalBasis.PARENTAL,
            evidence="戸籍謄本",
            actor=frank,
        )
    assert not Proxy.objects.exists()


def test_the_operator_administrator_records_a_proxy_with_one_audit_event(
    erin: User, child: Person, carol: User
) -> None:
    with Audit() as audit:
        proxy = services.grant_proxy(
            person=child,
            proxy_user=carol,
            scope=ProxyScope.MANAGE_CONSENT,
            legal_basis=LegalBasis.PARENTAL,
            evidence="戸籍謄本",
            actor=erin,
        )

    assert audit.actions == ["proxy.granted"]
    assert (audit.new[0].actor, audit.new[0].person, audit.new[0].detail["proxy"]) == (erin, child, str(proxy.id))


def test_a_parental_authority_proxy_over_an_adult_is_refused_even_for_the_operator_administrator(
    erin: User, alice: Person, carol: User
) -> None:
    with Audit() as audit, pytest.raises(ProxyNotAllowed):
        services.grant_proxy(
            person=alice,
            proxy_user=carol,
            scope=ProxyScope.MANAGE_CONSENT,
            legal_basis=LegalBasis.PARENTAL,
            evidence="戸籍謄本",
            actor=erin,
        )

    assert not Proxy.objects.exists()
    assert audit.new == []


def test_a_parental_authority_proxy_backdated_to_the_adults_childhood_is_refused(
    erin: User, alice: Person, carol: User
) -> None:
    childhood = timezone.make_aware(
        datetime.combine(alice.birth_date.replace(year=alice.birth_date.year + 5), time.min)
    )

    with pytest.raises(ProxyNotAllowed):
        services.grant_proxy(
            person=alice,
            proxy_user=carol,
            scope=ProxyScope.MANAGE_CONSENT,
            legal_basis=LegalBasis.PARENTAL,
            evidence="戸籍謄本",
            actor=erin,
            valid_from=childhood,
        )

    assert not Proxy.objects.exists()


# -- memberships -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.BREAK_GLASS, Role.OPERATOR_ADMIN, Role.REVIEWER, Role.CAMPAIGN_MANAGER])
def test_the_operator_administrator_cannot_give_an_operator_role_or_break_glass(
    erin: User, operator: Organisation, role: Role
) -> None:
    with Audit() as audit, pytest.raises(PermissionDenied):
        services.add_membership(user=erin, organisation=operator, role=role, actor=erin)

    assert not Membership.objects.filter(user=erin, role=role).exclude(role=Role.OPERATOR_ADMIN).exists()
    assert audit.new == []


def test_an_organisation_administrator_cannot_give_break_glass_in_their_hospital(
    frank: User, hospital: Organisation
) -> None:
    with pytest.raises(PermissionDenied):
        services.add_membership(user=frank, organisation=hospital, role=Role.BREAK_GLASS, actor=frank)
    assert not Membership.objects.filter(role=Role.BREAK_GLASS).exists()


def test_an_organisation_administrator_gives_a_researcher_role_in_their_hospital_only(
    frank: User, hospital: Organisation, other_hospital: Organisation
) -> None:
    researcher = make_user("ren@example.test")

    with Audit() as audit:
        services.add_membership(user=researcher, organisation=hospital, role=Role.RESEARCHER, actor=frank)
    with pytest.raises(PermissionDenied):
        services.add_membership(user=researcher, organisation=other_hospital, role=Role.RESEARCHER, actor=frank)

    assert audit.actions == ["membership.added"]
    assert list(Membership.objects.filter(user=researcher).values_list("organisation", flat=True)) == [hospital.pk]


def test_a_reviewer_cannot_take_a_role_away(dave: User, frank: User) -> None:
    membership = Membership.objects.get(user=frank)

    with pytest.raises(PermissionDenied):
        services.remove_membership(membership=membership, actor=dave)

    assert Membership.objects.filter(pk=membership.pk).exists()


# -- patient links ---------------------------------------------------------------------------------------


def test_a_reviewer_cannot_link_a_patient_and_nothing_is_written(
    dave: User, alice: Person, endpoint: FhirEndpoint
) -> None:
    with Audit() as audit, pytest.raises(PermissionDenied):
        fhir_services.link_hospital_patient(person=alice, endpoint=endpoint, patient_number="12345678", actor=dave)

    assert not Identifier.objects.filter(person=alice, system=endpoint.organisation.patient_number_system).exists()
    assert not Connection.objects.exists()
    assert audit.new == []


def test_another_hospitals_administrator_cannot_link_this_hospitals_patient(
    other_hospital: Organisation, alice: Person, endpoint: FhirEndpoint
) -> None:
    grace = make_user("grace@example.test")
    services.add_membership(user=grace, organisation=other_hospital, role=Role.ORG_ADMIN, actor=None)

    with pytest.raises(PermissionDenied):
        fhir_services.link_hospital_patient(person=alice, endpoint=endpoint, patient_number="12345678", actor=grace)
    with pytest.raises(PermissionDenied):
        services.link_identifier(person=alice, system="urn:oid:1.2.392.1", value="12345678", actor=grace)
    assert not Identifier.objects.filter(person=alice).exists()


def test_the_hospitals_administrator_links_its_patient_with_its_audit_events(
    frank: User, alice: Person, endpoint: FhirEndpoint
) -> None:
    with Audit() as audit:
        fhir_services.link_hospital_patient(person=alice, endpoint=endpoint, patient_number="12345678", actor=frank)

    assert audit.actions == ["identifier.linked", "fhir.connection.linked_by_hospital"]
    assert {event.actor for event in audit.new} == {frank}


# -- API clients -----------------------------------------------------------------------------------------


def test_an_administrator_of_another_hospital_cannot_register_rotate_or_revoke_its_clients(
    hospital: Organisation, other_hospital: Organisation
) -> None:
    grace = make_user("grace@example.test")
    services.add_membership(user=grace, organisation=other_hospital, role=Role.ORG_ADMIN, actor=None)
    client, _secret = api_clients.register_client(
        organisation=hospital, actor=None, name="EHR", allowed_scopes=["consent.check"], with_secret=True
    )

    with Audit() as audit:
        with pytest.raises(PermissionDenied):
            api_clients.register_client(
                organisation=hospital, actor=grace, name="planted", allowed_scopes=["consent.check"], with_secret=True
            )
        with pytest.raises(PermissionDenied):
            api_clients.rotate_secret(client=client, actor=grace)
        with pytest.raises(PermissionDenied):
            api_clients.revoke_client(client=client, actor=grace)

    client.refresh_from_db()
    assert client.revoked_at is None and client.rotated_at is None
    assert not client.__class__.objects.filter(name="planted").exists()
    assert audit.new == []


def test_the_operator_administrator_revokes_a_hospitals_client_with_one_audit_event(
    erin: User, hospital: Organisation
) -> None:
    client, _secret = api_clients.register_client(
        organisation=hospital, actor=None, name="EHR", allowed_scopes=["consent.check"], with_secret=True
    )

    with Audit() as audit:
        api_clients.revoke_client(client=client, actor=erin)

    assert audit.actions == ["api_client.revoked"]
    assert audit.new[0].actor == erin


# -- regimes ---------------------------------------------------------------------------------------------


def test_a_reviewer_cannot_create_a_regime_version(dave: User) -> None:
    with Audit() as audit, pytest.raises(ConsentNotAllowed):
        consent_services.create_regime_version(
            actor=dave,
            purpose_class="academic_research",
            tier=1,
            basis="opt_in",
            effective_from=timezone.now() + timedelta(days=30),
        )
    assert audit.new == []


# -- break-glass -----------------------------------------------------------------------------------------


def test_the_operator_administrator_without_the_emergency_role_cannot_look_anyone_up(erin: User, alice: Person) -> None:
    services.link_identifier(person=alice, system="urn:oid:1.2.392.1", value="12345678", actor=None)

    with Audit() as audit, pytest.raises(break_glass.BreakGlassRefused):
        break_glass.find_person(staff=erin, system="urn:oid:1.2.392.1", value="12345678")

    assert audit.new == []
    assert not BreakGlassGrant.objects.exists()


def test_a_reviewer_cannot_review_an_emergency_access(dave: User, operator: Organisation, alice: Person) -> None:
    medic = make_user("medic@example.test")
    services.add_membership(user=medic, organisation=operator, role=Role.BREAK_GLASS, actor=None)
    services.link_identifier(person=alice, system="urn:oid:1.2.392.1", value="12345678", actor=None)
    found = break_glass.find_person(staff=medic, system="urn:oid:1.2.392.1", value="12345678")
    assert found is not None
    grant = break_glass.open_grant(staff=medic, found=found, reason_category="emergency_care", reason="x" * 40)

    with pytest.raises(break_glass.BreakGlassRefused):
        break_glass.review_grant(grant=grant, reviewer=dave, note="fine")

    grant.refresh_from_db()
    assert grant.reviewed_at is None


# -- the grant_role command ------------------------------------------------------------------------------


def test_the_grant_role_command_gives_break_glass_with_an_audit_event(operator: Organisation) -> None:
    medic = make_user("medic@example.test")

    with Audit() as audit:
        call_command("grant_role", medic.email, "break_glass", reason="ER on-call rota 2026-12")

    assert Membership.objects.filter(user=medic, organisation=operator, role=Role.BREAK_GLASS).exists()
    assert audit.actions == ["membership.added"]
    event = audit.new[0]
    assert event.actor is None
    assert (event.detail["role"], event.detail["reason"]) == ("break_glass", "ER on-call rota 2026-12")
    assert event.detail["run_by"]


def test_the_grant_role_command_takes_a_role_away_with_an_audit_event(erin: User, operator: Organisation) -> None:
    with Audit() as audit:
        call_command("grant_role", erin.email, "operator_admin", revoke=True, reason="left the operator")

    assert not Membership.objects.filter(user=erin).exists()
    erin.refresh_from_db()
    assert not erin.is_staff
    assert audit.actions == ["membership.removed"]


def test_the_grant_role_command_makes_a_superuser_with_an_audit_event(alice: Person) -> None:
    assert alice.user is not None

    with Audit() as audit:
        call_command("grant_role", alice.user.email, superuser=True, reason="incident 42")

    alice.user.refresh_from_db()
    assert alice.user.is_superuser and alice.user.is_staff
    assert audit.actions == ["user.superuser_granted"]
    assert audit.new[0].detail["reason"] == "incident 42"


def test_the_grant_role_command_needs_a_reason_and_an_organisation_for_hospital_roles(
    hospital: Organisation,
) -> None:
    user = make_user("hiro@example.test")

    with pytest.raises(CommandError):
        call_command("grant_role", user.email, "org_admin", reason="IT lead")
    with pytest.raises(CommandError):
        call_command("grant_role", user.email, "org_admin", organisation=hospital.name, reason="  ")
    call_command("grant_role", user.email, "org_admin", organisation=hospital.name, reason="IT lead")

    assert Membership.objects.filter(user=user, organisation=hospital, role=Role.ORG_ADMIN).exists()
