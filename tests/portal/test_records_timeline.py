"""The timeline: newest first, grouped by day, filtered by category and source, searchable, paged."""

from __future__ import annotations

from django.test import Client
from pytest_django import DjangoAssertNumQueries

from phr.models import Person
from phr.records import reading
from tests.conftest import sign_in
from tests.phr.records.conftest import PATIENT, bundle, ingest_bytes, observation
from tests.portal.test_records_fixtures import seed_record


def _many(person: Person, count: int) -> None:
    ingest_bytes(
        person,
        bundle(
            PATIENT,
            *(
                observation(
                    f"o{i}", value=str(i), effectiveDateTime=f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T09:00:00+09:00"
                )
                for i in range(count)
            ),
        ),
    )


def test_the_timeline_lists_records_newest_first_grouped_by_day(client: Client, alice: Person) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)

    page = client.get("/me/records/timeline/").content.decode()

    assert page.index("2026-03-10") < page.index("2026-02-10") < page.index("2026-01-10")
    assert "アムロジピン錠5mg" in page


def test_the_timeline_filters_by_category(client: Client, alice: Person) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)

    page = client.get("/me/records/timeline/", {"category": "prescriptions"}).content.decode()

    assert "アムロジピン錠5mg" in page
    assert "本態性高血圧症" not in page


def test_the_timeline_filters_by_source(client: Client, alice: Person) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)

    assert "アムロジピン錠5mg" in client.get("/me/records/timeline/", {"source": "uploads"}).content.decode()
    assert "アムロジピン錠5mg" not in client.get("/me/records/timeline/", {"source": "self"}).content.decode()


def test_the_timeline_searches_the_encrypted_names(client: Client, alice: Person) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)

    page = client.get("/me/records/timeline/", {"q": "ペニシリン"}).content.decode()

    assert "ペニシリン" in page
    assert "アムロジピン錠5mg" not in page


def test_the_timeline_shows_the_help_of_the_chosen_category(client: Client, alice: Person) -> None:
    sign_in(client, alice.user.email)

    page = client.get("/me/records/timeline/", {"category": "lab_results"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Results of blood and urine tests." in page


def test_an_unknown_filter_is_ignored(client: Client, alice: Person) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)

    response = client.get("/me/records/timeline/", {"category": "nonsense", "source": "x", "page": "abc"})

    assert response.status_code == 200
    assert "アムロジピン錠5mg" in response.content.decode()


def test_the_timeline_is_paged(alice: Person) -> None:
    _many(alice, reading.PAGE_SIZE + 10)

    first = reading.timeline(alice)
    second = reading.timeline(alice, page=2)

    shown = [e.id for day in first.days for visit in day.visits for e in visit.entries]
    rest = [e.id for day in second.days for visit in day.visits for e in visit.entries]
    assert len(shown) == reading.PAGE_SIZE and first.has_next
    assert len(rest) == 10 and not second.has_next
    assert not set(shown) & set(rest)


def test_the_timeline_query_count_does_not_grow_with_the_record(
    client: Client, alice: Person, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    _many(alice, 20)
    sign_in(client, alice.user.email)
    client.get("/me/records/timeline/")
    with django_assert_max_num_queries(20) as small:
        assert client.get("/me/records/timeline/").status_code == 200
    _many(alice, 400)

    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get("/me/records/timeline/").status_code == 200
