"""A person registers a security key and signs in with it, using Chromium's virtual authenticator (CDP)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from playwright.sync_api import Page, expect

from phr import services
from phr.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "kenichi.ito@example.test"
PASSWORD = "yuki-no-hi-no-asa-17"


def _virtual_authenticator(page: Page) -> Any:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp


def _sign_in_with_password(page: Page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", EMAIL)
    page.fill("#id_password", PASSWORD)
    page.locator("form:has(#id_login) [type=submit]").click()


def test_a_registered_security_key_is_the_second_factor_at_sign_in(page: Page, live_server, screenshot) -> None:
    user = User.objects.create_user(email=EMAIL, password=PASSWORD)
    EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)
    services.create_person(
        user=user, family_name="伊藤", given_name="健一", birth_date=__import__("datetime").date(1970, 1, 1)
    )
    base = live_server.url
    _virtual_authenticator(page)

    _sign_in_with_password(page, base)
    page.goto(f"{base}/accounts/2fa/webauthn/add/")
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    page.fill("#id_password", PASSWORD)
    page.locator("form:has(#id_password) [type=submit]").click()
    expect(page).to_have_url(f"{base}/accounts/2fa/webauthn/add/")
    page.fill("#id_name", "ノートPC")
    screenshot("add-key")
    page.locator("#mfa_webauthn_add").click()
    expect(page).not_to_have_url(f"{base}/accounts/2fa/webauthn/add/")
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.WEBAUTHN).count() == 1

    page.locator("nav form[action$='/accounts/logout/'] [type=submit]").click()
    _sign_in_with_password(page, base)
    expect(page).to_have_url(f"{base}/accounts/2fa/authenticate/")
    page.locator("#mfa_webauthn_authenticate").click()
    expect(page).to_have_url(f"{base}/me/")
    expect(page.locator("main")).to_contain_text("伊藤")
