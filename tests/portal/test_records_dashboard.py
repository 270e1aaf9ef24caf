"""The records dashboard: allergies first, active conditions, current prescriptions, latest labs with flags,
recent documents, connections; in a bounded number of queries however large the record."""

from __future__ import annotations

from django.test import Client
from pytest_django import DjangoAssertNumQueries

from phr.models import Person
from phr.records.labs import SCAN_CHUNK, SCAN_LIMIT
from tests.conftest import sign_in
from tests.phr.records.conftest import PATIENT, bundle, ingest_bytes, observation
from tests.portal.test_records_fixtures import seed_record


def test_the_dashboard_shows_allergies_conditions_prescriptions_labs_and_documents(
    client: Client, alice: Person
) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)

    page = client.get("/me/records/").content.decode()

    assert "そば" in page and "ペニシリン" in page
    assert "本態性高血圧症" in page
    assert "胃炎" not in page  # resolved
    assert "アムロジピン錠5mg" in page
    assert "血糖" in page and "104" in page
    assert "診療情報提供書" in page


def test_allergies_are_shown_before_everything_else(client: Client, alice: Person) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)

    page = client.get("/me/records/").content.decode()

    assert page.index("ペニシリン") < page.index("本態性高血圧症") < page.index("血糖")


def test_the_dashboard_links_to_the_records_pages(client: Client, alice: Person) -> None:
    sign_in(client, alice.user.email)

    assert 'href="/me/records/"' in client.get("/me/").content.decode()
    page = client.get("/me/records/").content.decode()
    for path in ("/me/records/timeline/", "/me/records/labs/", "/me/records/documents/"):
        assert f'href="{path}"' in page
        assert client.get(path).status_code == 200


def test_an_empty_record_says_so_in_plain_words(client: Client, alice: Person) -> None:
    sign_in(client, alice.user.email)

    response = client.get("/me/records/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert "No allergy or drug contraindication is recorded." in response.content.decode()


def test_the_dashboard_query_count_is_bounded_whatever_the_size_of_the_record(
    client: Client, alice: Person, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    # At most: auth and session, five sections, connections (3), the last run, and the lab scan, which reads
    # SCAN_CHUNK rows at a time until it has eight tests (at most SCAN_LIMIT // SCAN_CHUNK reads).
    bound = 22 + SCAN_LIMIT // SCAN_CHUNK
    seed_record(alice)
    sign_in(client, alice.user.email)
    with django_assert_max_num_queries(bound):
        assert client.get("/me/records/").status_code == 200
    ingest_bytes(alice, bundle(PATIENT, *(observation(f"o{i}", value=str(i)) for i in range(3 * SCAN_CHUNK))))

    with django_assert_max_num_queries(bound):
        assert client.get("/me/records/").status_code == 200
