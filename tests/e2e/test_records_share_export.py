"""Records out in a browser on a phone and a desktop: a share link with a passcode and one category opened by
a clinician in a fresh browser, then revoked; exporting and downloading both formats, straight away and
from a background job polled by the page; the printable summary. axe finds no serious violation."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from playwright.sync_api import Browser, Page, expect

from config.celery import app as celery_app
from phr import services
from phr.models import Person, User
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import ARTIFACTS, serious_violations
from tests.portal.test_records_fixtures import seed_record
from tests.worker_broker import private_broker

__all__ = ["private_broker"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "yumi.ono@example.test"
PASSCODE = "sakura-2026"


@pytest.fixture
def yumi(transactional_db) -> Person:
    user: User = make_user(EMAIL)
    person = services.create_person(user=user, family_name="小野", given_name="由美", birth_date=date(1985, 7, 7))
    seed_record(person)
    return person


@pytest.fixture
def shot_of(viewport_name: str, request: pytest.FixtureRequest):
    """A screenshot of another page (the clinician's browser), kept beside the others."""

    def take(target: Page, step: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = f"{request.node.originalname}-{viewport_name}-{step}.png"
        target.screenshot(path=str(ARTIFACTS / name), full_page=True)

    return take


def _sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", EMAIL)
    page.fill("#id_password", PASSWORD)
    page.locator("form:has(#id_login) [type=submit]").click()
    expect(page).to_have_url(f"{base}/me/")


def _fits_the_screen(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert width <= 0, f"the page scrolls sideways by {width}px"


def test_a_link_with_a_passcode_and_one_category_opens_only_that_and_stops_after_revoking(
    page: Page, live_server, yumi: Person, screenshot, shot_of, browser: Browser, browser_context_args
) -> None:
    base = live_server.url
    _sign_in(page, base)
    page.goto(f"{base}/me/records/share/")
    page.fill("#id_label", "港診療所")
    for box in page.locator("input[name=categories]").all():
        box.uncheck()
    page.locator("input[name=categories][value=allergies]").check()
    page.locator("input[name=passcode_choice][value=own]").check()
    page.fill("#id_passcode", PASSCODE)
    page.locator("form.share-form [type=submit]").click()

    expect(page.locator(".qr svg")).to_be_visible()
    url = page.locator("#share-url").input_value()
    path = url[url.index("/share/") :]
    _fits_the_screen(page)
    assert serious_violations(page) == []
    screenshot("share-created")

    clinician_context = browser.new_context(**browser_context_args)
    clinician = clinician_context.new_page()
    clinician.goto(base + path)
    expect(clinician.locator("#id_passcode")).to_be_visible()
    expect(clinician.get_by_text("そば")).to_have_count(0)
    assert serious_violations(clinician) == []
    shot_of(clinician, "clinician-passcode")

    clinician.fill("#id_passcode", "wrong-passcode")
    clinician.locator("form.passcode-form [type=submit]").click()
    expect(clinician.locator(".field__errors")).to_be_visible()
    clinician.fill("#id_passcode", PASSCODE)
    clinician.locator("form.passcode-form [type=submit]").click()

    expect(clinician.get_by_text("そば")).to_be_visible()
    for hidden in ("ペニシリン", "本態性高血圧症", "アムロジピン錠5mg", "血糖"):
        expect(clinician.get_by_text(hidden)).to_have_count(0)
    _fits_the_screen(clinician)
    assert serious_violations(clinician) == []
    shot_of(clinician, "clinician-summary")

    page.goto(f"{base}/me/records/share/")
    row = page.locator("tr", has_text="港診療所")
    expect(row).to_contain_text("アレルギー")
    row.locator("button").click()
    expect(page.locator(".message--success")).to_be_visible()
    assert serious_violations(page) == []
    screenshot("share-revoked")

    response = clinician.goto(base + path)
    assert response is not None and response.status == 404
    expect(clinician.get_by_text("そば")).to_have_count(0)
    clinician_context.close()


def test_a_person_downloads_both_formats_and_opens_the_printable_summary(
    page: Page, live_server, yumi: Person, screenshot, tmp_path: Path
) -> None:
    base = live_server.url
    _sign_in(page, base)
    page.goto(f"{base}/me/records/")
    page.locator('a[href="/me/records/export/"]').first.click()
    expect(page).to_have_url(f"{base}/me/records/export/")
    _fits_the_screen(page)
    assert serious_violations(page) == []
    screenshot("export")

    with page.expect_download() as bundle_download:
        page.locator("[data-export-format=bundle]").click()
    bundle = json.loads(Path(bundle_download.value.path()).read_bytes())
    assert bundle["resourceType"] == "Bundle" and len(bundle["entry"]) == 10
    with page.expect_download() as ndjson_download:
        page.locator("[data-export-format=ndjson]").click()
    assert ndjson_download.value.suggested_filename.endswith(".ndjson")
    lines = Path(ndjson_download.value.path()).read_bytes().splitlines()
    assert len(lines) == 10 and all(json.loads(line)["resourceType"] for line in lines)

    page.goto(f"{base}/me/records/print/")
    expect(page.locator("[data-print]")).to_be_visible()
    expect(page.locator(".print-section--alert")).to_contain_text("ペニシリン")
    _fits_the_screen(page)
    assert serious_violations(page) == []
    screenshot("print")

    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator("[data-print]")).to_be_hidden()
    expect(page.locator(".print-section--alert")).to_be_visible()
    screenshot("print-media")


@pytest.mark.usefixtures("private_broker")
def test_a_large_record_is_prepared_by_a_worker_while_the_page_shows_progress(
    page: Page, live_server, yumi: Person, screenshot, settings
) -> None:
    settings.MAMORI_EXPORT_INLINE_MAX = 3
    base = live_server.url
    _sign_in(page, base)
    page.goto(f"{base}/me/records/export/")
    assert serious_violations(page) == []

    page.locator("form:has(input[value=ndjson]) button").click()
    expect(page.locator(".export-job progress")).to_be_visible()
    screenshot("export-queued")  # no worker yet: the job waits, the page polls its status

    ready = page.locator(".export-job a[download]")
    with start_worker(celery_app, queues=["bulk"], perform_ping_check=False, pool="solo", loglevel="WARNING"):
        expect(ready).to_be_visible(timeout=30_000)  # the page's script reloads it once the file is ready

    assert serious_violations(page) == []
    screenshot("export-ready")
    with page.expect_download() as download:
        ready.click()
    assert len(Path(download.value.path()).read_bytes().splitlines()) == 10
