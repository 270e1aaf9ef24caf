"""The Django admin is a window, not a second write path: the operator administrator, signed in with a
second factor, tries through it what the services would refuse or audit, and each attempt is refused with
nothing changed."""

from __future__ import annotations

from datetime import date

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib import admin
from django.contrib.auth.hashers import check_password
from django.test import Client, RequestFactory

from consent.models import Regime
from phr import services
from phr.models import AuditEvent, FhirEndpoint, Membership, Organisation, Person, Proxy, User
from phr.models.parties import Role
from tests.conftest import PASSWORD, TOTP_SECRET, make_citizen, make_user, sign_in_with_totp


@pytest.fixture
def signed_in_erin(client: Client, erin: User) -> Client:
    sign_in_with_totp(client, erin.email)
    return client


@pytest.fixture
def root(db) -> User:
    """A Django superuser (made with the grant_role command in real life), with a second factor."""
    user = make_user("root@example.test")
    services.set_superuser(user=user, superuser=True, reason="incident 42", run_by="test")
    TOTP.activate(user, TOTP_SECRET)
    return user


def _unchanged_audit(before: int) -> None:
    assert AuditEvent.objects.count() == before


def test_the_operator_administrator_cannot_set_a_citizens_password(signed_in_erin: Client, alice: Person) -> None:
    audit = AuditEvent.objects.count()
    url = f"/admin/phr/user/{alice.user_id}/password/"

    page = signed_in_erin.get(url)
    attempt = signed_in_erin.post(url, {"password1": "taken-over-1234", "password2": "taken-over-1234"})

    assert page.status_code == attempt.status_code == 403
    assert alice.user is not None
    alice.user.refresh_from_db()
    assert check_password(PASSWORD, alice.user.password)
    _unchanged_audit(audit)


def test_the_operator_administrator_cannot_give_themselves_break_glass(
    signed_in_erin: Client, erin: User, operator: Organisation
) -> None:
    audit = AuditEvent.objects.count()

    form = signed_in_erin.get("/admin/phr/membership/add/")
    attempt = signed_in_erin.post(
        "/admin/phr/membership/add/", {"user": erin.pk, "organisation": operator.pk, "role": Role.BREAK_GLASS}
    )

    assert form.status_code == attempt.status_code == 403
    assert not Membership.objects.filter(user=erin, role=Role.BREAK_GLASS).exists()
    _unchanged_audit(audit)


def test_the_operator_administrator_cannot_turn_a_membership_into_break_glass(
    signed_in_erin: Client, erin: User, operator: Organisation
) -> None:
    membership = Membership.objects.get(user=erin)

    attempt = signed_in_erin.post(
        f"/admin/phr/membership/{membership.pk}/change/",
        {"user": erin.pk, "organisation": operator.pk, "role": Role.BREAK_GLASS},
    )

    assert attempt.status_code == 403
    assert Membership.objects.get(pk=membership.pk).role == Role.OPERATOR_ADMIN


def test_the_operator_administrator_cannot_create_a_parental_proxy_over_an_adult(
    signed_in_erin: Client, alice: Person, carol: User
) -> None:
    assert alice.age_on(date.today()) >= 16
    audit = AuditEvent.objects.count()

    attempt = signed_in_erin.post(
        "/admin/phr/proxy/add/",
        {
            "person": alice.pk,
            "proxy_user": carol.pk,
            "scope": "manage_consent",
            "legal_basis": "parental_authority",
            "evidence": "none",
            "valid_from_0": "2026-01-01",
            "valid_from_1": "00:00:00",
        },
    )

    assert attempt.status_code == 403
    assert not Proxy.objects.exists()
    _unchanged_audit(audit)


def test_the_operator_administrator_cannot_make_anyone_a_superuser(
    signed_in_erin: Client, erin: User, alice: Person
) -> None:
    for user in (erin, alice.user):
        assert user is not None
        attempt = signed_in_erin.post(
            f"/admin/phr/user/{user.pk}/change/",
            {"email": user.email, "is_active": "on", "is_staff": "on", "is_superuser": "on"},
        )
        assert attempt.status_code == 403
        user.refresh_from_db()
        assert not user.is_superuser
    assert not User.objects.filter(is_superuser=True).exists()


def test_the_operator_administrator_cannot_add_a_user(signed_in_erin: Client) -> None:
    attempt = signed_in_erin.post(
        "/admin/phr/user/add/", {"email": "mallory@example.test", "password1": "x-12345678", "password2": "x-12345678"}
    )

    assert attempt.status_code == 403
    assert not User.objects.filter(email="mallory@example.test").exists()


def test_the_operator_administrator_cannot_add_an_endpoint_that_reads_a_server_file(
    signed_in_erin: Client, hospital: Organisation
) -> None:
    attempt = signed_in_erin.post(
        "/admin/phr/fhirendpoint/add/",
        {
            "organisation": hospital.pk,
            "name": "loopback",
            "base_url": "http://127.0.0.1:8999/fhir",
            "auth_mode": "backend_services",
            "client_id": "mamori",
            "client_secret_file": "/proc/self/environ",
            "signing_alg": "RS384",
            "scope_style": "v2",
        },
    )

    assert attempt.status_code == 403
    assert not FhirEndpoint.objects.exists()


def test_the_operator_administrator_cannot_add_a_regime_version_around_the_staff_page(
    signed_in_erin: Client,
) -> None:
    regimes = Regime.objects.count()

    attempt = signed_in_erin.post(
        "/admin/consent/regime/add/",
        {"purpose_class": "commercial_rnd", "tier": 3, "basis": "statutory", "effective_from_0": "2030-01-01"},
    )

    assert attempt.status_code == 403
    assert Regime.objects.count() == regimes


def test_the_delete_action_deletes_no_person(signed_in_erin: Client, alice: Person, bob: Person) -> None:
    response = signed_in_erin.post(
        "/admin/phr/person/",
        {"action": "delete_selected", "_selected_action": [str(alice.pk), str(bob.pk)], "post": "yes"},
    )

    assert response.status_code in (200, 302, 403)
    assert Person.objects.filter(pk__in=[alice.pk, bob.pk]).count() == 2
    assert b"delete_selected" not in signed_in_erin.get("/admin/phr/person/").content


def test_the_admin_still_shows_people_organisations_and_roles(
    signed_in_erin: Client, alice: Person, hospital: Organisation, erin: User
) -> None:
    membership = Membership.objects.get(user=erin)
    for path in (
        "/admin/phr/person/",
        f"/admin/phr/person/{alice.pk}/change/",
        "/admin/phr/organisation/",
        f"/admin/phr/membership/{membership.pk}/change/",
        "/admin/consent/apiclient/",
    ):
        response = signed_in_erin.get(path)
        assert response.status_code == 200, path
        assert b'name="_save"' not in response.content, path
    assert "佐藤" in signed_in_erin.get("/admin/phr/person/").content.decode()


def test_a_users_page_shows_no_password_hash(signed_in_erin: Client, alice: Person) -> None:
    assert alice.user is not None

    page = signed_in_erin.get(f"/admin/phr/user/{alice.user_id}/change/").content.decode()

    assert alice.user.email in page
    assert alice.user.password not in page
    assert alice.user.password.split("$")[-1] not in page


def test_not_even_a_superuser_can_write_through_any_admin_page(root: User) -> None:
    request = RequestFactory().get("/admin/")
    request.user = root

    for model, model_admin in admin.site._registry.items():
        label = model._meta.label
        assert not model_admin.has_add_permission(request), label
        assert not model_admin.has_change_permission(request), label
        assert not model_admin.has_delete_permission(request), label
        assert model_admin.get_actions(request) == {}, label
        assert model_admin.has_view_permission(request), label


def test_a_superuser_reads_every_admin_list(client: Client, root: User, alice: Person) -> None:
    sign_in_with_totp(client, root.email)

    for model in admin.site._registry:
        path = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        response = client.get(path)
        assert response.status_code == 200, path
        assert f"{path}add/".encode() not in response.content, path


def test_no_second_factor_secret_shows_in_the_admin(client: Client, root: User) -> None:
    citizen = make_citizen("kaito@example.test", "山田", "海斗", date(1990, 1, 1))
    assert citizen.user is not None
    TOTP.activate(citizen.user, "KAITOSECRETKAITOSECRETKAITOSECRE")
    sign_in_with_totp(client, root.email)

    listing = client.get("/admin/mfa/authenticator/")
    authenticator = Authenticator.objects.get(user=citizen.user)
    detail = client.get(f"/admin/mfa/authenticator/{authenticator.pk}/change/")

    assert listing.status_code == detail.status_code == 200
    for page in (listing, detail):
        assert b"KAITOSECRET" not in page.content
