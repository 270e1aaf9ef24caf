"""No page at all is reachable by staff without a second factor in the session, but the flow that gives one."""

from __future__ import annotations

import json

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from phr import services
from phr.models import Organisation, Person, SyncRun, User
from phr.models.parties import ProxyScope, Role
from tests.conftest import TOTP_SECRET, grant_proxy_to, make_citizen, make_user, sign_in, sign_in_with_totp


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


def _staff_acting_for(person: Person, operator: Organisation) -> User:
    """A campaign manager with no second factor who also manages ``person``'s affairs as their proxy."""
    user = make_user("mallory@example.test")
    services.add_membership(user=user, organisation=operator, role=Role.CAMPAIGN_MANAGER, actor=None)
    grant_proxy_to(person, user, scope=ProxyScope.MANAGE_CONSENT)
    return user


def _bundle() -> SimpleUploadedFile:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Condition"}}]}
    return SimpleUploadedFile("bundle.json", json.dumps(bundle).encode(), content_type="application/fhir+json")


def test_a_staff_member_without_mfa_can_neither_open_nor_post_an_upload_for_a_person(
    client: Client, alice: Person, operator: Organisation
) -> None:
    staff = _staff_acting_for(alice, operator)
    sign_in(client, staff.email)
    path = f"/people/{alice.pk}/records/upload/"

    opened = client.get(path)
    posted = client.post(path, {"file": _bundle()})

    for response in (opened, posted):
        assert response.status_code == 302
        assert response["Location"] == f"/security/staff-mfa/?next={path.replace('/', '%2F')}"
    assert not SyncRun.objects.filter(person=alice).exists()


def test_a_staff_member_without_mfa_is_sent_to_enrol_even_from_their_own_page(
    client: Client, operator: Organisation
) -> None:
    person = make_citizen("grace@example.test", "高橋", "恵")
    assert person.user is not None
    services.add_membership(user=person.user, organisation=operator, role=Role.REVIEWER, actor=None)
    sign_in(client, person.user.email)

    for path in ("/me/", "/me/records/", "/me/choices/", "/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/security/staff-mfa/"), path


@pytest.mark.parametrize("flag", ["is_staff", "is_superuser"])
def test_an_admin_flag_without_a_role_needs_mfa_too(client: Client, alice: Person, flag: str) -> None:
    user = make_user("root@example.test")
    User.objects.filter(pk=user.pk).update(**{flag: True})
    grant_proxy_to(alice, user)
    sign_in(client, user.email)

    response = client.get(f"/people/{alice.pk}/records/")

    assert response.status_code == 302 and response["Location"].startswith("/security/staff-mfa/")


def test_the_pages_that_give_a_second_factor_stay_open_to_staff_without_one(
    client: Client, operator: Organisation
) -> None:
    user = make_user("frank@example.test")
    services.add_membership(user=user, organisation=operator, role=Role.CAMPAIGN_MANAGER, actor=None)
    sign_in(client, user.email)

    assert client.get("/security/staff-mfa/?next=/staff/").status_code == 200
    activate = client.get("/accounts/2fa/totp/activate/")
    assert activate.status_code == 200 or not activate["Location"].startswith("/security/")
    assert client.get("/accounts/reauthenticate/").status_code == 200
    assert client.get("/accounts/email/").status_code == 200
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/security/staff-mfa/"}).status_code == 302
    assert client.get("/healthz").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/me/")["Location"].startswith("/accounts/login/")


def test_a_factor_enrolled_during_the_session_opens_every_page(
    client: Client, alice: Person, operator: Organisation
) -> None:
    staff = _staff_acting_for(alice, operator)
    sign_in(client, staff.email)
    assert client.get(f"/people/{alice.pk}/records/").status_code == 302

    TOTP.activate(staff, TOTP_SECRET)  # as allauth's activation page does once the code is confirmed

    assert client.get(f"/people/{alice.pk}/records/").status_code == 200
    assert client.get("/staff/").status_code == 200


def test_a_citizen_is_never_asked_for_a_second_factor(client: Client, alice: Person) -> None:
    sign_in(client, alice.user.email)

    assert client.get("/me/").status_code == 200
    assert client.get("/me/records/").status_code == 200


def test_the_hospital_api_answers_a_staff_session_as_it_answers_no_session(
    client: Client, operator: Organisation
) -> None:
    user = make_user("frank@example.test")
    services.add_membership(user=user, organisation=operator, role=Role.CAMPAIGN_MANAGER, actor=None)
    sign_in(client, user.email)

    assert client.get("/api/v1/projects").status_code == 200
    assert client.get("/fhir/r4/metadata").status_code == 200
    assert client.get("/.well-known/smart-configuration").status_code == 200
    refused = client.get("/api/v1/decisions?identifier=urn:x|1&project=P1")
    assert refused.status_code == 401 and refused["Content-Type"].startswith("application/problem+json")
