"""The citizen dashboard: own record, a dependent's record through a proxy (logged), nobody else's."""

from __future__ import annotations

from django.test import Client
from pytest_django import DjangoAssertNumQueries

from phr import services
from phr.models import AuditEvent, Person, User
from tests.conftest import grant_proxy_to, make_citizen, sign_in


def test_the_owner_sees_profile_identifiers_and_proxies(client: Client, alice: Person, carol: User) -> None:
    services.link_identifier(person=alice, system="urn:mamori:linkage-id", value="MMR0000001", actor=None)
    grant_proxy_to(alice, carol)
    sign_in(client, alice.user.email)
    page = client.get("/me/").content.decode()
    assert "佐藤" in page
    assert "MMR0000001" in page
    assert carol.email in page


def test_the_dashboard_query_count_does_not_grow_with_proxies_and_identifiers(
    client: Client, alice: Person, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    for n in range(5):
        services.link_identifier(person=alice, system=f"urn:h{n}", value=f"P{n}", actor=None)
        grant_proxy_to(alice, make_citizen(f"proxy{n}@example.test", "山田", f"{n}").user)
    sign_in(client, alice.user.email)
    with django_assert_max_num_queries(25):
        assert client.get("/me/").status_code == 200


def test_a_proxy_sees_the_dependent_under_a_banner_and_the_view_is_logged(
    client: Client, alice: Person, carol: User
) -> None:
    grant_proxy_to(alice, carol)
    sign_in(client, carol.email)
    response = client.get(f"/people/{alice.pk}/")
    assert response.status_code == 200
    assert "佐藤" in response.content.decode()
    event = AuditEvent.objects.get(person=alice, action="proxy.viewed")
    assert event.actor == carol


def test_nobody_else_reaches_a_persons_dashboard(client: Client, alice: Person, bob: Person) -> None:
    sign_in(client, bob.user.email)
    assert client.get(f"/people/{alice.pk}/").status_code == 404
    assert client.get("/people/not-a-uuid/").status_code == 404
    assert not AuditEvent.objects.filter(person=alice, action="proxy.viewed").exists()


def test_the_dashboard_leads_to_hospitals_upload_and_deletion(client: Client, alice: Person) -> None:
    sign_in(client, alice.user.email)
    page = client.get("/me/").content.decode()
    for path in ("/me/connections/", "/me/records/upload/", "/me/records/delete/"):
        assert f'href="{path}"' in page
        assert client.get(path).status_code in (200, 302)


def test_a_proxy_is_led_to_the_dependents_pages_and_not_to_deletion(client: Client, alice: Person, carol: User) -> None:
    grant_proxy_to(alice, carol)
    sign_in(client, carol.email)
    page = client.get(f"/people/{alice.pk}/").content.decode()
    assert f'href="/people/{alice.pk}/connections/"' in page
    assert f'href="/people/{alice.pk}/records/upload/"' in page
    assert 'href="/me/records/delete/"' not in page


def test_the_person_and_their_proxy_see_which_hospital_checked_the_choices(
    client: Client, alice: Person, carol: User
) -> None:
    from tests.consent.api.hospital import HOSPITAL_SYSTEM, bearer, link, make_hospital
    from tests.consent.conftest import make_project

    hospital = make_hospital("東京総合病院", HOSPITAL_SYSTEM)
    project = make_project(hospital, title_ja="高血圧の経過研究")
    link(alice, HOSPITAL_SYSTEM, "P-1001")
    answer = Client().get(
        "/api/v1/decisions",
        {"identifier": f"{HOSPITAL_SYSTEM}|P-1001", "project": str(project.pk)},
        headers=bearer(hospital, "consent.check"),
    )
    assert answer.status_code == 200

    sign_in(client, alice.user.email)
    page = client.get("/me/").content.decode()
    assert "東京総合病院" in page
    assert "高血圧の経過研究" in page

    grant_proxy_to(alice, carol)
    proxy_client = Client()
    sign_in(proxy_client, carol.email)
    page = proxy_client.get(f"/people/{alice.pk}/").content.decode()
    assert "東京総合病院" in page
