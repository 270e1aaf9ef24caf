"""No staff page and no admin page is reachable without a second factor in the session."""

from __future__ import annotations

from django.test import Client

from phr import services
from phr.models import Organisation, Person, User
from phr.models.parties import Role
from tests.conftest import make_user, sign_in, sign_in_with_totp


def test_a_reviewer_who_signed_in_with_totp_reaches_the_staff_area(client: Client, dave: User) -> None:
    sign_in_with_totp(client, dave.email)
    response = client.get("/staff/")
    assert response.status_code == 200
    assert "審査委員" in response.content.decode()  # the role, in Japanese by default


def test_a_staff_member_without_mfa_is_sent_to_enrol(client: Client, operator: Organisation) -> None:
    user = make_user("frank@example.test")
    services.add_membership(user=user, organisation=operator, role=Role.CAMPAIGN_MANAGER, actor=None)
    sign_in(client, user.email)
    for path in ("/staff/", "/staff/proxies/new/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/security/staff-mfa/")


def test_a_session_that_skipped_the_second_factor_is_refused(client: Client, dave: User) -> None:
    client.force_login(dave)  # a session with no MFA record, as if the factor was bypassed
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith("/security/staff-mfa/")


def test_the_admin_needs_mfa_too(client: Client, erin: User) -> None:
    client.force_login(erin)
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/phr/person/").status_code == 302
    client.logout()
    sign_in_with_totp(client, erin.email)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/phr/person/").status_code == 200


def test_the_admin_login_is_allauths_login(client: Client) -> None:
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")


def test_a_citizen_cannot_enter_the_staff_area(client: Client, alice: Person) -> None:
    sign_in(client, alice.user.email)
    assert client.get("/staff/").status_code == 403
    assert client.get("/admin/", follow=True).status_code == 403


def test_a_reviewer_cannot_record_proxies(client: Client, dave: User) -> None:
    sign_in_with_totp(client, dave.email)
    assert client.get("/staff/proxies/new/").status_code == 403


def test_an_operator_admin_records_a_proxy_found_by_identifier(
    client: Client, erin: User, alice: Person, carol: User, hospital: Organisation
) -> None:
    assert hospital.patient_number_system is not None
    services.link_identifier(person=alice, system=hospital.patient_number_system, value="778899", actor=None)
    sign_in_with_totp(client, erin.email)
    response = client.post(
        "/staff/proxies/new/",
        {
            "identifier_system": hospital.patient_number_system,
            "identifier_value": "778899",
            "proxy_email": carol.email,
            "scope": "view",
            "legal_basis": "power_of_attorney",
            "evidence": "notarised deed no. 123 checked at the counter",
        },
    )
    assert response.status_code == 302
    assert alice.proxies.get().proxy_user == carol


def test_the_security_key_form_is_labelled_in_japanese(client: Client, alice: Person) -> None:
    sign_in(client, alice.user.email)
    client.post("/accounts/reauthenticate/", {"password": "correct horse battery staple"})
    page = client.get("/accounts/2fa/webauthn/add/").content.decode()
    assert 'for="id_name">このセキュリティキー（パスキー）の名前' in page


def test_an_operator_admin_finds_the_policy_regimes_from_the_staff_area(client: Client, erin: User) -> None:
    sign_in_with_totp(client, erin.email)
    page = client.get("/staff/").content.decode()
    assert 'href="/staff/regimes/"' in page
    assert client.get("/staff/regimes/").status_code == 200


def test_a_reviewer_sees_no_administration_links(client: Client, dave: User) -> None:
    sign_in_with_totp(client, dave.email)
    assert 'href="/staff/regimes/"' not in client.get("/staff/").content.decode()
