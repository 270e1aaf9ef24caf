"""Who reaches a person's records: the person, a proxy with the view scope (every read logged), nobody else."""

from __future__ import annotations

import pytest
from django.test import Client

from phr.models import Person, RecordAccess, ResourceIndex, User
from tests.conftest import grant_proxy_to, sign_in
from tests.portal.test_records_fixtures import seed_record

PAGES = ("", "timeline/", "labs/", "labs/glucose/", "documents/")


def _document(person: Person) -> str:
    return f"documents/{ResourceIndex.objects.get(person=person, category='documents').pk}/"


@pytest.mark.parametrize("page", [*PAGES, "document"])
def test_nobody_else_reaches_a_persons_records(client: Client, alice: Person, bob: Person, page: str) -> None:
    seed_record(alice)
    path = _document(alice) if page == "document" else page
    sign_in(client, bob.user.email)

    assert client.get(f"/people/{alice.pk}/records/{path}").status_code == 404
    assert not RecordAccess.objects.filter(person=alice).exists()


def test_a_signed_out_visitor_is_sent_to_sign_in(client: Client, alice: Person) -> None:
    response = client.get("/me/records/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get(f"/people/{alice.pk}/records/").status_code == 302


@pytest.mark.parametrize("page", [*PAGES, "document"])
def test_a_proxy_reads_the_dependents_records_and_every_read_is_logged(
    client: Client, alice: Person, carol: User, page: str
) -> None:
    seed_record(alice)
    grant_proxy_to(alice, carol)
    path = _document(alice) if page == "document" else page
    sign_in(client, carol.email)

    response = client.get(f"/people/{alice.pk}/records/{path}")

    assert response.status_code == 200
    assert (
        "You are viewing the records of" in response.content.decode() or "記録を見ています" in response.content.decode()
    )
    access = RecordAccess.objects.get(person=alice)
    assert access.actor == carol and access.actor_label == carol.email
    assert access.route == "proxy" and access.proxy is not None
    assert access.page.startswith("records.")


def test_the_persons_own_reads_are_not_logged_as_someone_elses(client: Client, alice: Person) -> None:
    seed_record(alice)
    sign_in(client, alice.user.email)

    for page in PAGES:
        assert client.get(f"/me/records/{page}").status_code == 200
    assert client.get(f"/people/{alice.pk}/records/").status_code == 200

    assert not RecordAccess.objects.exists()


def test_an_expired_or_revoked_proxy_reaches_nothing(client: Client, alice: Person, carol: User) -> None:
    from phr import services

    seed_record(alice)
    proxy = grant_proxy_to(alice, carol)
    services.revoke_proxy(proxy=proxy, actor=carol)
    sign_in(client, carol.email)

    assert client.get(f"/people/{alice.pk}/records/").status_code == 404
    assert client.get(f"/people/{alice.pk}/records/{_document(alice)}").status_code == 404


def test_a_proxy_cannot_enter_self_reported_data_for_the_dependent(client: Client, carol: User) -> None:
    sign_in(client, carol.email)

    assert client.get("/me/records/self-reported/").status_code == 404


def test_the_person_sees_who_looked_at_their_record(client: Client, alice: Person, carol: User) -> None:
    seed_record(alice)
    grant_proxy_to(alice, carol)
    sign_in(client, carol.email)
    client.get(f"/people/{alice.pk}/records/labs/glucose/")
    client.logout()
    sign_in(client, alice.user.email)

    page = client.get("/me/records/access-log/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert carol.email in page
    assert "As a proxy" in page
    assert "A lab test&#x27;s results" in page or "A lab test's results" in page


def test_only_the_person_reads_their_access_log(client: Client, alice: Person, carol: User) -> None:
    grant_proxy_to(alice, carol)
    sign_in(client, carol.email)

    assert client.get("/me/records/access-log/").status_code == 404
