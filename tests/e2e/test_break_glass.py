"""Break-glass in a browser, on a phone and a desktop: a staff member states a reason, confirms the password,
reads the record under an emergency banner; the person gets the mail (a real SMTP server) and sees who looked
and why; an administrator reviews it. axe finds no serious violation on any page; screenshots kept."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from playwright.sync_api import Page, expect

from config.celery import app as celery_app
from phr import services
from phr.models import BreakGlassGrant, Organisation, Person, User
from phr.models.parties import OrganisationKind, Role
from tests.conftest import PASSWORD, make_user, totp_code
from tests.e2e.conftest import Mailbox, body_text, serious_violations
from tests.portal.test_records_fixtures import seed_record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PATIENT_NUMBER = "20261121"
REASON = "救急外来に意識不明で搬送。服薬歴とアレルギーを確認する必要がある。"
STAFF_SECRET = "JBSWY3DPEHPK3PXPBREAKGLASSAAAAAA"
ADMIN_SECRET = "JBSWY3DPEHPK3PXPREVIEWERAAAAAAAA"


@pytest.fixture
def run_tasks_here() -> Iterator[None]:
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = False


@pytest.fixture
def scene(transactional_db) -> dict[str, object]:
    operator = services.create_organisation(name="運営機構", kind=OrganisationKind.PUBLIC, actor=None, is_operator=True)
    hospital = services.create_organisation(
        name="東都大学病院", kind=OrganisationKind.HOSPITAL, actor=None, patient_number_system="urn:oid:1.2.392.1"
    )
    person_user = make_user("kenji.mori@example.test")
    person = services.create_person(user=person_user, family_name="森", given_name="健二", birth_date=date(1970, 1, 5))
    seed_record(person)
    services.link_identifier(person=person, system="urn:oid:1.2.392.1", value=PATIENT_NUMBER, actor=None)
    staff = make_user("frank@example.test")
    services.add_membership(user=staff, organisation=operator, role=Role.BREAK_GLASS, actor=None)
    TOTP.activate(staff, STAFF_SECRET)
    admin = make_user("erin@example.test")
    services.add_membership(user=admin, organisation=operator, role=Role.OPERATOR_ADMIN, actor=None)
    TOTP.activate(admin, ADMIN_SECRET)
    return {"person": person, "staff": staff, "admin": admin, "hospital": hospital}


def _sign_in(page: Page, base: str, email: str, secret: str | None = None) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", PASSWORD)
    page.locator("form:has(#id_login) [type=submit]").click()
    if secret is not None:
        expect(page).to_have_url(f"{base}/accounts/2fa/authenticate/")
        page.fill("#id_code", totp_code(secret))
        page.locator("form:has(#id_code) [type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/"))


def _sign_out(page: Page) -> None:
    page.locator("nav form[action$='/accounts/logout/'] [type=submit]").click()


def _fits_the_screen(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert width <= 0, f"the page scrolls sideways by {width}px"


def test_break_glass_from_reason_to_review(
    page: Page, live_server, scene: dict, mailbox: Mailbox, run_tasks_here, screenshot
) -> None:
    base = live_server.url
    person: Person = scene["person"]
    staff: User = scene["staff"]
    admin: User = scene["admin"]
    hospital: Organisation = scene["hospital"]

    _sign_in(page, base, staff.email, STAFF_SECRET)
    page.goto(f"{base}/staff/")
    page.locator('a[href="/staff/break-glass/"]').click()
    expect(page.locator("h1")).to_have_text("緊急アクセス（ブレークグラス）")
    assert serious_violations(page) == []
    _fits_the_screen(page)
    screenshot("form")

    page.select_option("#id_identifier_system", hospital.patient_number_system)
    page.fill("#id_identifier_value", PATIENT_NUMBER)
    page.select_option("#id_reason_category", "patient_unconscious")
    page.fill("#id_reason", "急ぎ")
    page.check("#id_confirm")
    page.get_by_role("button", name="緊急時として記録を開く").click()
    # Too short a reason: refused, with what was typed kept.
    expect(page.locator("#id_reason_error")).to_be_visible()
    expect(page.locator("#id_identifier_value")).to_have_value(PATIENT_NUMBER)
    assert not BreakGlassGrant.objects.exists()
    assert serious_violations(page) == []
    screenshot("form-error")

    page.fill("#id_reason", REASON)
    page.check("#id_confirm")
    page.get_by_role("button", name="緊急時として記録を開く").click()
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    page.fill("#id_password", PASSWORD)
    page.locator("form:has(#id_password) [type=submit]").click()

    expect(page).to_have_url(f"{base}/people/{person.pk}/records/")
    expect(page.locator(".acting-banner--emergency")).to_be_visible()
    expect(page.get_by_text("ペニシリン")).to_be_visible()
    assert serious_violations(page) == []
    _fits_the_screen(page)
    screenshot("record")
    page.goto(f"{base}/people/{person.pk}/records/labs/")
    expect(page.locator("h1")).to_be_visible()

    mail = mailbox.wait_for(person.user.email)
    text = body_text(mail)
    assert "緊急アクセス" in text and "/me/records/access-log/" in text
    assert REASON not in text and "意識" not in text
    _sign_out(page)

    _sign_in(page, base, person.user.email)
    expect(page.locator("#notices-title")).to_be_visible()
    assert serious_violations(page) == []
    screenshot("notice")
    page.get_by_role("link", name="記録を見た人").first.click()
    expect(page).to_have_url(f"{base}/me/records/access-log/")
    expect(page.get_by_text(REASON).first).to_be_visible()
    expect(page.get_by_text(staff.email).first).to_be_visible()
    assert serious_violations(page) == []
    _fits_the_screen(page)
    screenshot("access-log")
    page.goto(f"{base}/me/")
    page.get_by_role("button", name=re.compile("既読にする")).click()
    expect(page.locator("#notices-title")).to_have_count(0)
    _sign_out(page)

    _sign_in(page, base, admin.email, ADMIN_SECRET)
    page.goto(f"{base}/staff/")
    page.locator('a[href="/staff/break-glass/review/"]').click()
    expect(page.get_by_text(REASON)).to_be_visible()
    expect(page.get_by_text("••••21")).to_be_visible()
    assert person.display_name not in page.content()
    assert serious_violations(page) == []
    _fits_the_screen(page)
    screenshot("review")
    page.locator("textarea[name=note]").fill("救急外来の受診記録と照合し、正当なアクセスと確認した。")
    page.get_by_role("button", name=re.compile("確認済みにする")).click()
    expect(page.get_by_text("緊急アクセスを確認済みにしました。")).to_be_visible()
    assert BreakGlassGrant.objects.get().reviewed_by == admin
