"""Lab results: grouped by test across code systems, with units, ranges, flags and an accessible SVG trend."""

from __future__ import annotations

from django.test import Client

from phr.models import Person
from phr.records.labs import lab_history, latest_labs
from tests.conftest import sign_in
from tests.portal.test_records_fixtures import seed_record


def test_the_same_test_under_loinc_and_jlac10_is_one_group(alice: Person) -> None:
    seed_record(alice)

    groups = latest_labs(alice)

    assert [g.key for g in groups] == ["glucose"]
    history = lab_history(alice, "glucose")
    assert history is not None
    assert [str(v.value) for v in history.values] == ["104", "131", "98"]


def test_a_result_above_its_range_is_flagged_high(alice: Person) -> None:
    seed_record(alice)

    history = lab_history(alice, "glucose")

    assert history is not None
    assert [v.flag for v in history.values] == ["", "H", ""]
    assert history.values[1].unit == "mg/dL"
    assert history.values[1].range_text == "70–109"


def test_the_lab_page_draws_a_trend_whose_text_alternative_is_the_table(client: Client, alice: Person) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)

    page = client.get("/me/records/labs/glucose/").content.decode()

    assert '<svg class="trend__chart"' in page
    assert 'role="img"' in page and 'aria-describedby="lab-history"' in page
    assert 'id="lab-history"' in page
    assert page.count("<circle") == 3
    assert "cdn" not in page.lower()


def test_an_unknown_test_is_not_found(client: Client, alice: Person) -> None:
    sign_in(client, alice.user.email)

    assert client.get("/me/records/labs/nothing/").status_code == 404
    assert client.get("/me/records/labs/r-not-a-uuid/").status_code == 404
