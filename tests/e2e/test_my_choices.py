"""My choices in a browser: read the previews, opt out with confirmation, refuse a category, set DUO terms,
see it all in the history with receipts; and two tabs that disagree. Run on a phone and a desktop."""

from __future__ import annotations

import re
from datetime import date
from importlib import import_module

import pytest
from playwright.sync_api import Page, expect

from consent import selectors
from consent.models import PurposeClass
from phr import services
from phr.models import Person, User
from portal.choices_forms import CONDITION_WORDS, PERMISSION_WORDS
from tests.conftest import PASSWORD, grant_proxy_to, make_user
from tests.e2e.conftest import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "haruka.ito@example.test"


def _ja(text: object) -> str:
    from django.utils import translation

    with translation.override("ja"):
        return str(text)


@pytest.fixture
def haruka(transactional_db) -> Person:
    # A transactional test flushes the tables after it, seeded regimes included: seed them again.
    from django.apps import apps

    import_module("consent.migrations.0002_seed_default_regimes").seed(apps, None)
    user: User = make_user(EMAIL)
    return services.create_person(user=user, family_name="伊藤", given_name="遥", birth_date=date(1988, 7, 7))


def _sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", EMAIL)
    page.fill("#id_password", PASSWORD)
    page.locator("form:has(#id_login) [type=submit]").click()
    expect(page).to_have_url(f"{base}/me/")


def _fits_the_screen(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert width <= 0, f"the page scrolls sideways by {width}px"


def test_a_person_reads_the_previews_opts_out_refuses_a_category_and_sets_terms(
    page: Page, live_server, haruka: Person, screenshot
) -> None:
    base = live_server.url
    _sign_in(page, base)
    page.locator("main a[href='/me/choices/']").click()
    expect(page).to_have_url(f"{base}/me/choices/")
    optout = page.locator("#opt-out")
    expect(optout).to_contain_text(_ja(PurposeClass.PUBLIC_HEALTH.label))  # statutory uses are listed
    expect(page.locator("#grid table")).to_have_count(3)
    _fits_the_screen(page)
    screenshot("overview")
    assert serious_violations(page) == []

    optout.locator("a[href='/me/choices/opt-out/']").click()
    expect(page).to_have_url(f"{base}/me/choices/opt-out/")
    expect(page.locator(".choice-change").first).to_be_visible()
    _fits_the_screen(page)
    screenshot("opt-out-confirm")
    assert serious_violations(page) == []
    page.locator("main form button[type=submit]").click()  # not confirmed yet: asked again, nothing saved
    expect(page.locator(".field__errors")).to_be_visible()
    assert selectors.choices_of(haruka).global_opt_out is None
    page.locator("#id_confirm").check()
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{base}/me/choices/#opt-out")
    expect(page.locator("#opt-out .badge--danger")).to_be_visible()
    assert selectors.choices_of(haruka).global_opt_out is not None

    page.locator("a[href='/me/choices/categories/lab_results/commercial_rnd/']").click()
    expect(page.locator("#after-deny")).to_be_visible()
    expect(page.locator("#after-deny .badge--danger")).to_be_visible()
    page.locator("label[for=value-deny]").click()
    _fits_the_screen(page)
    screenshot("category")
    assert serious_violations(page) == []
    page.locator("main form button[type=submit]").first.click()
    expect(page).to_have_url(f"{base}/me/choices/#grid")
    [refusal] = selectors.choices_of(haruka).categories
    assert (refusal.category, refusal.purpose_class, refusal.value) == ("lab_results", "commercial_rnd", "deny")

    page.locator("#terms a[href='/me/choices/terms/']").click()
    page.locator("label[for=permission-DS]").click()
    expect(page.locator("[data-diseases]")).to_be_visible()
    page.locator("label[for=disease-II]").click()
    page.locator("label[for=condition-NCU]").click()
    page.locator("label[for=condition-GS]").click()
    page.locator("label[for=condition-TS]").click()
    page.fill("#id_months", "24")
    page.locator("button[value=preview]").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text(_ja(PERMISSION_WORDS["DS"][0]))
    expect(preview).to_contain_text(_ja(CONDITION_WORDS["NCU"][0]))
    expect(preview).to_contain_text(_ja(CONDITION_WORDS["GS"][0]))
    assert selectors.choices_of(haruka).duo_terms is None
    _fits_the_screen(page)
    screenshot("terms-preview")
    assert serious_violations(page) == []
    page.locator("button[value=save]").click()
    expect(page).to_have_url(f"{base}/me/choices/#terms")
    expect(page.locator("#terms")).to_contain_text(_ja(CONDITION_WORDS["NCU"][0]))
    terms = selectors.choices_of(haruka).duo_terms
    assert terms is not None and terms.terms is not None
    assert terms.terms["modifiers"] == ["NCU", "GS", "TS"]

    expect(page.locator("#history .history__item")).to_have_count(3)
    screenshot("overview-after")
    page.locator("#history a[href='/me/choices/history/']").click()
    expect(page.locator(".history__item")).to_have_count(3)
    _fits_the_screen(page)
    screenshot("history")
    assert serious_violations(page) == []
    page.locator(".history__receipt a").first.click()
    expect(page).to_have_url(re.compile(r"/receipts/[0-9a-f-]+/$"))
    screenshot("receipt")


def test_two_tabs_the_second_save_is_refused_and_shows_the_current_state(
    page: Page, live_server, haruka: Person, screenshot
) -> None:
    base = live_server.url
    _sign_in(page, base)
    cell = f"{base}/me/choices/categories/genomics/academic_research/"
    other = page.context.new_page()
    page.goto(cell)
    other.goto(cell)
    other.locator("label[for=value-permit]").click()
    other.locator("main form button[type=submit]").first.click()
    expect(other).to_have_url(f"{base}/me/choices/#grid")

    page.locator("label[for=value-deny]").click()
    page.locator("main form button[type=submit]").first.click()
    expect(page).to_have_url(f"{base}/me/choices/")
    expect(page.locator(".message--warning")).to_be_visible()
    screenshot("conflict")
    [choice] = selectors.choices_of(haruka).categories
    assert choice.value == "permit"


def test_a_proxy_changes_a_dependents_choices_under_a_banner(
    page: Page, live_server, haruka: Person, screenshot
) -> None:
    from phr.models.parties import LegalBasis, ProxyScope

    parent = make_user("kenji.ito@example.test")
    child = services.create_person(user=None, family_name="伊藤", given_name="蓮", birth_date=date(2016, 5, 5))
    grant_proxy_to(child, parent, scope=ProxyScope.MANAGE_CONSENT, basis=LegalBasis.PARENTAL)
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", parent.email)
    page.fill("#id_password", PASSWORD)
    page.locator("form:has(#id_login) [type=submit]").click()
    page.goto(f"{base}/people/{child.pk}/")
    page.locator(f"main a[href='/people/{child.pk}/choices/']").click()
    banner = page.locator(".acting-banner")
    expect(banner).to_contain_text("伊藤 蓮")
    _fits_the_screen(page)
    screenshot("proxy-overview")
    assert serious_violations(page) == []
    page.locator(f"a[href='/people/{child.pk}/choices/categories/genomics/academic_research/']").click()
    expect(page.locator(".acting-banner")).to_be_visible()
    page.locator("label[for=value-deny]").click()
    page.locator("main form button[type=submit]").first.click()
    expect(page).to_have_url(f"{base}/people/{child.pk}/choices/#grid")
    [refusal] = selectors.choices_of(child).categories
    assert (refusal.category, refusal.value) == ("genomics", "deny")
