"""Reading records in a browser on a phone and a desktop: the records dashboard, a lab trend, a document
whose narrative carries a script that must never run; axe finds no serious violation; screenshots kept."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Dialog, Page, expect

from phr import services
from phr.models import Person, ResourceIndex, User
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import serious_violations
from tests.portal.test_records_fixtures import seed_record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "kenji.mori@example.test"


@pytest.fixture
def kenji(transactional_db) -> Person:
    user: User = make_user(EMAIL)
    person = services.create_person(user=user, family_name="森", given_name="健二", birth_date=date(1970, 1, 5))
    seed_record(person)
    return person


def _sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", EMAIL)
    page.fill("#id_password", PASSWORD)
    page.locator("form:has(#id_login) [type=submit]").click()
    expect(page).to_have_url(f"{base}/me/")


def _fits_the_screen(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert width <= 0, f"the page scrolls sideways by {width}px"


def test_a_person_sees_records_on_the_dashboard_and_opens_a_lab_trend(
    page: Page, live_server, kenji: Person, screenshot
) -> None:
    base = live_server.url
    _sign_in(page, base)

    page.locator('a[href="/me/records/"]').click()
    expect(page).to_have_url(f"{base}/me/records/")
    expect(page.locator("#allergies-title")).to_be_visible()
    expect(page.get_by_text("ペニシリン")).to_be_visible()
    expect(page.get_by_text("本態性高血圧症")).to_be_visible()
    expect(page.get_by_text("アムロジピン錠5mg")).to_be_visible()
    _fits_the_screen(page)
    assert serious_violations(page) == []
    screenshot("dashboard")

    page.locator('a[href="/me/records/labs/glucose/"]').first.click()
    expect(page).to_have_url(f"{base}/me/records/labs/glucose/")
    chart = page.locator("svg.trend__chart")
    expect(chart).to_be_visible()
    assert chart.get_attribute("role") == "img"
    expect(page.locator("#lab-history tbody tr")).to_have_count(3)
    expect(page.locator("#lab-history .lab-flag")).to_have_count(1)
    _fits_the_screen(page)
    assert serious_violations(page) == []
    screenshot("lab-trend")


def test_the_timeline_filters_and_searches_with_the_keyboard(
    page: Page, live_server, kenji: Person, screenshot
) -> None:
    base = live_server.url
    _sign_in(page, base)
    page.goto(f"{base}/me/records/timeline/")

    page.fill("#timeline-q", "ペニシリン")
    page.locator("#timeline-q").press("Enter")

    expect(page.locator(".timeline .record-list__item")).to_have_count(1)
    _fits_the_screen(page)
    assert serious_violations(page) == []
    screenshot("timeline")


def test_a_script_in_a_documents_narrative_never_runs(page: Page, live_server, kenji: Person, screenshot) -> None:
    base = live_server.url
    _sign_in(page, base)
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    document = ResourceIndex.objects.get(person=kenji, category="documents").pk

    page.goto(f"{base}/me/records/documents/{document}/")
    expect(page.get_by_text("腹痛精査お願いします。")).to_be_visible()
    page.locator(".narrative a", has_text="link").click()  # its javascript: URL was removed

    assert page.evaluate("window.__pwned === undefined")
    assert page.title() != "pwned"
    assert page.locator(".narrative script, .narrative img, .narrative [onerror]").count() == 0
    assert dialogs == []
    _fits_the_screen(page)
    assert serious_violations(page) == []
    screenshot("document")


def test_a_person_enters_a_weight_and_sees_it_badged_self_reported(
    page: Page, live_server, kenji: Person, screenshot
) -> None:
    base = live_server.url
    _sign_in(page, base)
    page.goto(f"{base}/me/records/self-reported/")
    assert serious_violations(page) == []
    screenshot("form")

    page.locator("input[name=measure][value=weight]").check()
    page.fill("#id_measured_at", "2026-04-01T08:00")
    page.fill("#id_value", "61.5")
    page.locator("form.form [type=submit]").click()

    expect(page).to_have_url(f"{base}/me/records/timeline/")
    item = page.locator(".timeline .record-list__item").first
    expect(item).to_contain_text("Body weight")
    expect(item.locator(".badge--info")).to_be_visible()
    _fits_the_screen(page)
    assert serious_violations(page) == []
    screenshot("timeline")


def test_a_person_shares_a_summary_by_qr_code_and_a_clinician_opens_it(
    page: Page, live_server, kenji: Person, screenshot, browser
) -> None:
    base = live_server.url
    _sign_in(page, base)
    page.goto(f"{base}/me/records/share/")
    page.fill("#id_label", "港診療所")
    page.locator("form.form [type=submit]").click()

    expect(page.locator(".qr svg")).to_be_visible()
    url = page.locator("#share-url").input_value()
    assert "/share/" in url
    _fits_the_screen(page)
    assert serious_violations(page) == []
    screenshot("share")

    clinician = browser.new_page()
    clinician.goto(base + url[url.index("/share/") :])
    expect(clinician.get_by_text("ペニシリン")).to_be_visible()
    assert serious_violations(clinician) == []
    clinician.close()
