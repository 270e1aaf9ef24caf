"""Break-glass: operator staff with the emergency-access role open a record after stating a reason; the person
is told and sees every page read; administrators review; nobody else gets in and nothing is logged for them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.core import mail
from django.test import Client
from django.utils import timezone

from config.celery import app as celery_app
from phr import break_glass, services
from phr.models import AuditEvent, BreakGlassGrant, Membership, Organisation, Person, PersonNotice, RecordAccess, User
from phr.models.parties import Role
from tests.conftest import PASSWORD, TOTP_SECRET, make_user, sign_in, sign_in_with_totp
from tests.portal.test_records_fixtures import seed_record

PATIENT_NUMBER = "12345678"
REASON = "救急外来に意識不明で搬送。アレルギーと服薬歴の確認が必要。"


@pytest.fixture
def run_tasks_here() -> Iterator[None]:
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = False


@pytest.fixture
def frank(operator: Organisation) -> User:
    """An operator staff member with the emergency-access role and TOTP enrolled."""
    user = make_user("frank@example.test")
    services.add_membership(user=user, organisation=operator, role=Role.BREAK_GLASS, actor=None)
    TOTP.activate(user, TOTP_SECRET)
    return user


@pytest.fixture
def linked_alice(alice: Person, hospital: Organisation) -> Person:
    services.link_identifier(
        person=alice, system=hospital.patient_number_system or "", value=PATIENT_NUMBER, actor=None
    )
    seed_record(alice)
    return alice


def sign_in_staff(client: Client, email: str) -> None:
    """Sign in with a second factor, then confirm the password again (allauth asks before opening a grant)."""
    sign_in_with_totp(client, email)
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})


def _form(hospital: Organisation, **overrides: str) -> dict[str, str]:
    return {
        "identifier_system": hospital.patient_number_system or "",
        "identifier_value": PATIENT_NUMBER,
        "reason_category": "patient_unconscious",
        "reason": REASON,
        "confirm": "on",
        **overrides,
    }


def _open_grant(staff: User, person: Person, system: str) -> BreakGlassGrant:
    found = break_glass.find_person(staff=staff, system=system, value=PATIENT_NUMBER)
    assert found is not None and found.person == person
    return break_glass.open_grant(staff=staff, found=found, reason_category="emergency_care", reason=REASON)


def test_a_staff_member_with_the_role_opens_a_record_after_stating_a_reason(
    client: Client,
    frank: User,
    linked_alice: Person,
    hospital: Organisation,
    run_tasks_here,
    django_capture_on_commit_callbacks,
) -> None:
    sign_in_staff(client, frank.email)
    assert client.get(f"/people/{linked_alice.pk}/records/").status_code == 404  # no grant yet

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/staff/break-glass/", _form(hospital))

    assert response.status_code == 302 and response["Location"] == f"/people/{linked_alice.pk}/records/"
    grant = BreakGlassGrant.objects.get()
    assert grant.staff == frank and grant.person == linked_alice
    assert grant.identifier_masked == "••••78" and PATIENT_NUMBER not in grant.identifier_masked
    assert grant.expires_at - grant.opened_at == timedelta(minutes=60)
    assert AuditEvent.objects.filter(action="break_glass.opened", actor=frank, person=linked_alice).exists()
    # The person is told at once, in the app and by mail (with no health data in the mail).
    assert PersonNotice.objects.filter(person=linked_alice, kind="break_glass").exists()
    assert [m.to for m in mail.outbox] == [[linked_alice.user.email]]
    assert "意識不明" not in mail.outbox[0].body

    page = client.get(f"/people/{linked_alice.pk}/records/")
    assert page.status_code == 200 and "緊急アクセス" in page.content.decode()
    assert client.get(f"/people/{linked_alice.pk}/records/timeline/").status_code == 200
    accesses = RecordAccess.objects.filter(person=linked_alice).order_by("log_entry_id")
    assert [a.page for a in accesses] == ["records.dashboard", "records.timeline"]
    assert all(a.route == "break_glass" and a.break_glass == grant and REASON in a.reason for a in accesses)
    assert all(a.actor == frank for a in accesses)


def test_the_person_sees_the_emergency_read_with_its_reason(
    client: Client, frank: User, linked_alice: Person, hospital: Organisation
) -> None:
    _open_grant(frank, linked_alice, hospital.patient_number_system or "")
    staff = Client()
    sign_in_with_totp(staff, frank.email)
    staff.get(f"/people/{linked_alice.pk}/records/labs/")

    sign_in(client, linked_alice.user.email)
    page = client.get("/me/records/access-log/").content.decode()
    assert frank.email in page and REASON in page and "緊急" in page
    assert "検査結果" in page  # the labs page, in the person's words
    assert "緊急時に開かれました" in client.get("/me/").content.decode()


def test_the_grant_is_read_only(client: Client, frank: User, linked_alice: Person, hospital: Organisation) -> None:
    _open_grant(frank, linked_alice, hospital.patient_number_system or "")
    sign_in_with_totp(client, frank.email)

    assert client.get(f"/people/{linked_alice.pk}/records/upload/").status_code == 404
    assert client.get(f"/people/{linked_alice.pk}/choices/").status_code == 404
    assert client.get(f"/people/{linked_alice.pk}/").status_code == 404
    assert client.get(f"/people/{linked_alice.pk}/connections/").status_code == 404


def test_without_the_role_there_is_no_grant_and_nothing_is_logged(
    client: Client, dave: User, bob: Person, linked_alice: Person, hospital: Organisation
) -> None:
    sign_in_with_totp(client, dave.email)
    assert client.get("/staff/break-glass/").status_code == 403
    assert client.post("/staff/break-glass/", _form(hospital)).status_code == 403
    assert client.get(f"/people/{linked_alice.pk}/records/").status_code == 404

    citizen = Client()
    sign_in(citizen, bob.user.email)
    assert citizen.get("/staff/break-glass/").status_code == 403
    assert citizen.post("/staff/break-glass/", _form(hospital)).status_code == 403

    with pytest.raises(break_glass.BreakGlassRefused):
        _open_grant(dave, linked_alice, hospital.patient_number_system or "")
    assert not BreakGlassGrant.objects.exists()
    assert not RecordAccess.objects.exists()
    assert not PersonNotice.objects.exists()


def test_the_role_in_a_hospital_is_not_enough(client: Client, linked_alice: Person, hospital: Organisation) -> None:
    user = make_user("grace@example.test")
    Membership.objects.create(user=user, organisation=hospital, role=Role.BREAK_GLASS)
    TOTP.activate(user, TOTP_SECRET)
    sign_in_with_totp(client, user.email)

    assert client.post("/staff/break-glass/", _form(hospital)).status_code == 403
    assert not BreakGlassGrant.objects.exists()


def test_a_short_reason_or_a_missing_confirmation_is_refused_and_the_form_keeps_what_was_typed(
    client: Client, frank: User, linked_alice: Person, hospital: Organisation
) -> None:
    sign_in_with_totp(client, frank.email)

    response = client.post("/staff/break-glass/", _form(hospital, reason="急いで"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "急いで" in page and PATIENT_NUMBER in page and 'value="patient_unconscious" selected' in page

    form = _form(hospital)
    del form["confirm"]
    assert client.post("/staff/break-glass/", form).status_code == 200
    assert not BreakGlassGrant.objects.exists() and not PersonNotice.objects.exists()


def test_an_unknown_identifier_opens_nothing_and_the_search_is_audited(
    client: Client, frank: User, linked_alice: Person, hospital: Organisation
) -> None:
    sign_in_staff(client, frank.email)

    response = client.post("/staff/break-glass/", _form(hospital, identifier_value="99999999"))

    assert response.status_code == 200 and "99999999" in response.content.decode()
    assert not BreakGlassGrant.objects.exists()
    assert AuditEvent.objects.filter(action="break_glass.lookup_missed", actor=frank).exists()


def test_opening_asks_for_the_password_again(
    client: Client, frank: User, linked_alice: Person, hospital: Organisation, settings
) -> None:
    sign_in_with_totp(client, frank.email)
    session = client.session
    for record in session["account_authentication_methods"]:
        record["at"] -= settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 1
    session.save()

    response = client.post("/staff/break-glass/", _form(hospital))
    assert response.status_code == 302 and "/accounts/reauthenticate/" in response["Location"]
    assert not BreakGlassGrant.objects.exists()

    # The password confirmed, the stashed request resumes: the grant opens without typing the form again.
    response = client.post(response["Location"], {"password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == f"/people/{linked_alice.pk}/records/"
    assert BreakGlassGrant.objects.filter(staff=frank).count() == 1


def test_an_expired_grant_opens_nothing(
    client: Client, frank: User, linked_alice: Person, hospital: Organisation
) -> None:
    grant = _open_grant(frank, linked_alice, hospital.patient_number_system or "")
    BreakGlassGrant.objects.filter(pk=grant.pk).update(
        opened_at=timezone.now() - timedelta(minutes=61), expires_at=timezone.now() - timedelta(minutes=1)
    )
    sign_in_with_totp(client, frank.email)

    assert client.get(f"/people/{linked_alice.pk}/records/").status_code == 404
    assert not RecordAccess.objects.exists()


def test_a_grant_for_one_person_does_not_open_another(
    client: Client, frank: User, linked_alice: Person, bob: Person, hospital: Organisation
) -> None:
    _open_grant(frank, linked_alice, hospital.patient_number_system or "")
    seed_record(bob)
    sign_in_with_totp(client, frank.email)

    assert client.get(f"/people/{bob.pk}/records/").status_code == 404
    assert client.get(f"/people/{bob.pk}/records/timeline/").status_code == 404
    assert not RecordAccess.objects.filter(person=bob).exists()


def test_a_grant_needs_the_role_still_and_a_session_that_passed_mfa(
    client: Client, operator: Organisation, linked_alice: Person, hospital: Organisation
) -> None:
    user = make_user("henry@example.test")
    services.add_membership(user=user, organisation=operator, role=Role.BREAK_GLASS, actor=None)
    _open_grant(user, linked_alice, hospital.patient_number_system or "")
    sign_in(client, user.email)  # no second factor enrolled: the session never passed MFA

    assert client.get(f"/people/{linked_alice.pk}/records/")["Location"].startswith("/security/staff-mfa/")

    TOTP.activate(user, TOTP_SECRET)
    mfa_client = Client()
    sign_in_with_totp(mfa_client, user.email)
    assert mfa_client.get(f"/people/{linked_alice.pk}/records/").status_code == 200
    Membership.objects.filter(user=user, role=Role.BREAK_GLASS).delete()
    assert mfa_client.get(f"/people/{linked_alice.pk}/records/").status_code == 404
    assert RecordAccess.objects.filter(person=linked_alice).count() == 1


def test_an_administrator_reviews_each_emergency_access(
    client: Client, frank: User, erin: User, linked_alice: Person, hospital: Organisation
) -> None:
    grant = _open_grant(frank, linked_alice, hospital.patient_number_system or "")
    staff = Client()
    sign_in_with_totp(staff, frank.email)
    staff.get(f"/people/{linked_alice.pk}/records/documents/")
    assert staff.get("/staff/break-glass/review/").status_code == 403
    assert staff.post(f"/staff/break-glass/review/{grant.pk}/", {"note": "自分で確認"}).status_code == 403

    sign_in_with_totp(client, erin.email)
    page = client.get("/staff/break-glass/review/").content.decode()
    assert frank.email in page and "••••78" in page and REASON in page
    assert "文書の一覧" in page or "List of documents" in page
    assert linked_alice.display_name not in page and PATIENT_NUMBER not in page

    assert client.post(f"/staff/break-glass/review/{grant.pk}/", {"note": ""}).status_code == 302
    grant.refresh_from_db()
    assert grant.reviewed_at is None

    client.post(f"/staff/break-glass/review/{grant.pk}/", {"note": "救急外来の記録と照合し、正当と確認。"})
    grant.refresh_from_db()
    assert grant.reviewed_by == erin and grant.review_note == "救急外来の記録と照合し、正当と確認。"
    assert AuditEvent.objects.filter(action="break_glass.reviewed", actor=erin).exists()
    assert REASON not in client.get("/staff/break-glass/review/").content.decode()
    assert "正当と確認" in client.get("/staff/break-glass/review/?show=reviewed").content.decode()

    client.post(f"/staff/break-glass/review/{grant.pk}/", {"note": "二度目"})
    grant.refresh_from_db()
    assert grant.review_note == "救急外来の記録と照合し、正当と確認。"


def test_nobody_reviews_their_own_emergency_access(
    erin: User, operator: Organisation, linked_alice: Person, hospital: Organisation
) -> None:
    services.add_membership(user=erin, organisation=operator, role=Role.BREAK_GLASS, actor=None)
    grant = _open_grant(erin, linked_alice, hospital.patient_number_system or "")

    with pytest.raises(break_glass.BreakGlassRefused):
        break_glass.review_grant(grant=grant, reviewer=erin, note="問題なし")
    grant.refresh_from_db()
    assert grant.reviewed_at is None


def test_the_review_list_loads_in_a_fixed_number_of_queries(
    client: Client,
    frank: User,
    erin: User,
    linked_alice: Person,
    hospital: Organisation,
    django_assert_max_num_queries,
) -> None:
    for _ in range(5):
        _open_grant(frank, linked_alice, hospital.patient_number_system or "")
    sign_in_with_totp(client, erin.email)

    with django_assert_max_num_queries(16):
        assert client.get("/staff/break-glass/review/").status_code == 200


def test_lookups_are_limited_per_staff_member_and_the_refusal_is_audited(
    frank: User, linked_alice: Person, hospital: Organisation
) -> None:
    system = hospital.patient_number_system or ""
    for _ in range(break_glass.LOOKUPS_PER_HOUR):
        assert break_glass.find_person(staff=frank, system=system, value=PATIENT_NUMBER) is not None
    with pytest.raises(break_glass.BreakGlassRefused):
        break_glass.find_person(staff=frank, system=system, value=PATIENT_NUMBER)
    assert AuditEvent.objects.filter(actor=frank, action="break_glass.lookups_limited").count() == 1
