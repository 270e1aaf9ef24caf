"""A person signs up, confirms their email, signs in, enrols TOTP, signs in again with it, switches language."""

from __future__ import annotations

import re
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from playwright.sync_api import Page, expect

from phr.models import User
from tests.conftest import totp_code
from tests.e2e.conftest import Mailbox, first_link, serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "misaki.tanaka@example.test"
PASSWORD = "kiri-no-naka-de-29"


def wrong_code(secret: str) -> str:
    """A six-digit code that no window the server accepts (the current one and its neighbours) produces."""
    now = int(time.time()) // 30
    accepted = {format_hotp_value(hotp_value(secret, now + step)) for step in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted)


def _sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", EMAIL)
    page.fill("#id_password", PASSWORD)
    page.locator("form:has(#id_login) [type=submit]").click()


def test_sign_up_confirm_sign_in_enrol_totp_and_switch_language(
    page: Page, live_server, mailbox: Mailbox, screenshot
) -> None:
    base = live_server.url
    page.goto(f"{base}/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    screenshot("home")

    page.goto(f"{base}/accounts/signup/")
    page.fill("#id_email", EMAIL)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.fill("#id_family_name", "田中")
    page.fill("#id_given_name", "美咲")
    page.fill("#id_birth_date", "1990-02-03")
    screenshot("signup")
    page.locator("form:has(#id_email) [type=submit]").click()
    expect(page).to_have_url(f"{base}/accounts/confirm-email/")

    link = first_link(mailbox.wait_for(EMAIL))
    page.goto(link)
    page.locator("main form [type=submit]").click()

    _sign_in(page, base)
    expect(page).to_have_url(f"{base}/me/")
    expect(page.locator("main")).to_contain_text("田中")
    screenshot("dashboard")

    page.goto(f"{base}/accounts/2fa/totp/activate/")
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))  # enrolling a factor asks again
    page.fill("#id_password", PASSWORD)
    page.locator("form:has(#id_password) [type=submit]").click()
    expect(page).to_have_url(f"{base}/accounts/2fa/totp/activate/")
    secret = page.locator("#authenticator_secret").input_value()
    assert len(secret) >= 16
    expect(page.locator("main img").first).to_be_visible()
    screenshot("totp")
    page.fill("#id_code", totp_code(secret))
    page.locator("form:has(#id_code) [type=submit]").click()
    assert Authenticator.objects.filter(user__email=EMAIL, type=Authenticator.Type.TOTP).exists()

    page.locator("nav form[action$='/accounts/logout/'] [type=submit]").click()
    page.goto(f"{base}/me/")
    expect(page).to_have_url(f"{base}/accounts/login/?next=/me/")

    _sign_in(page, base)
    expect(page).to_have_url(f"{base}/accounts/2fa/authenticate/")
    page.fill("#id_code", totp_code(secret))
    page.locator("form:has(#id_code) [type=submit]").click()
    expect(page).to_have_url(f"{base}/me/")

    page.locator("form.lang-switch button[value=en]").first.click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("nav")).to_contain_text("Sign out")
    screenshot("dashboard-en")


def test_a_wrong_totp_code_keeps_the_person_out(page: Page, live_server, mailbox: Mailbox) -> None:
    from allauth.account.models import EmailAddress
    from allauth.mfa.totp.internal.auth import TOTP

    user = User.objects.create_user(email=EMAIL, password=PASSWORD)
    EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)
    TOTP.activate(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    _sign_in(page, live_server.url)
    page.fill("#id_code", wrong_code("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"))
    page.locator("form:has(#id_code) [type=submit]").click()
    expect(page.locator("#id_code")).to_be_visible()  # still asked for the code, with an error
    page.goto(f"{live_server.url}/me/")
    assert not page.url.endswith("/me/")
    assert "/accounts/login/" in page.url or "/accounts/2fa/authenticate/" in page.url


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/signup/"])
def test_public_pages_have_no_serious_accessibility_violations(page: Page, live_server, path: str, screenshot) -> None:
    page.goto(f"{live_server.url}{path}")
    assert serious_violations(page) == []


def test_the_dashboard_has_no_serious_accessibility_violations(page: Page, live_server, screenshot) -> None:
    from allauth.account.models import EmailAddress

    from phr import services

    user = User.objects.create_user(email=EMAIL, password=PASSWORD)
    EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)
    person = services.create_person(
        user=user, family_name="田中", given_name="美咲", birth_date=__import__("datetime").date(1990, 2, 3)
    )
    services.link_identifier(person=person, system="urn:mamori:linkage-id", value="MMR0000077", actor=None)
    _sign_in(page, live_server.url)
    expect(page).to_have_url(f"{live_server.url}/me/")
    expect(page.locator("main")).to_contain_text("MMR0000077")
    screenshot("dashboard")
    assert serious_violations(page) == []
