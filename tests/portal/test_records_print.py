"""The printable summary: allergies first, active conditions, current medicines, latest labs, with the
person's name, the date printed and the sources; print styles and a print button from a static script."""

from __future__ import annotations

import re

from django.test import Client

from phr.models import Person, RecordAccess, User
from tests.conftest import grant_proxy_to, sign_in
from tests.phr.records.conftest import PATIENT, bundle, ingest_bytes
from tests.portal.test_records_fixtures import seed_record


def test_the_printable_summary_lists_what_a_clinician_needs_allergies_first(client: Client, alice: Person) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)

    response = client.get("/me/records/print/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert "Health summary of" in page and alice.display_name in page and "Printed on" in page
    order = [page.index(text) for text in ("ペニシリン", "本態性高血圧症", "アムロジピン錠5mg", "血糖", "Sources")]
    assert order == sorted(order)
    assert "胃炎" not in page  # resolved: not an active condition
    assert re.search(r"<button[^>]*data-print[^>]*hidden", page)
    assert '<script src="/static/js/print.js" defer></script>' in page
    assert "<script>" not in page


def test_the_print_styles_hide_the_site_chrome() -> None:
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "static" / "css" / "mamori.css").read_text()
    block = css[css.index("Records out: share links") :]
    assert "@media print" in block and ".print-toolbar" in block and ".site-nav" in block


def test_the_summary_page_reads_as_many_queries_for_a_larger_record(client: Client, alice: Person) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.portal.test_records_fixtures import allergy, condition, glucose

    seed_record(alice)
    sign_in(client, alice.user.email)
    with CaptureQueriesContext(connection) as small:
        assert client.get("/me/records/print/").status_code == 200
    more = [condition(f"cx{n}", code="E11", display=f"糖尿病{n}") for n in range(30)]
    more += [allergy(f"ax{n}", display=f"食品{n}") for n in range(30)]
    more += [glucose(f"gx{n}", value="100", when=f"2025-{n % 12 + 1:02d}-01T09:00:00+09:00") for n in range(30)]
    ingest_bytes(alice, bundle(PATIENT, *more))

    with CaptureQueriesContext(connection) as large:
        assert client.get("/me/records/print/").status_code == 200

    assert len(large) <= len(small) <= 25


def test_a_proxy_prints_a_dependents_summary_and_it_is_logged(client: Client, alice: Person, carol: User) -> None:
    seed_record(alice)
    grant_proxy_to(alice, carol)
    sign_in(client, carol.email)

    page = client.get(f"/people/{alice.pk}/records/print/").content.decode()

    assert "ペニシリン" in page
    assert RecordAccess.objects.filter(person=alice, actor=carol, route="proxy", page="records.print").exists()


def test_the_records_page_links_to_export_and_print(client: Client, alice: Person) -> None:
    sign_in(client, alice.user.email)

    page = client.get("/me/records/").content.decode()

    assert 'href="/me/records/export/"' in page and 'href="/me/records/print/"' in page
    assert 'href="/me/records/export/" download' not in page
