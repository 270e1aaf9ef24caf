"""My choices: every write through the pages, stale versions refused, proxies by scope, nobody else's choices."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from consent import selectors, services
from consent.models import ConsentEvent
from phr import services as phr_services
from phr.models import AuditEvent, Organisation, Person, User
from phr.models.parties import ProxyScope
from tests.conftest import grant_proxy_to, make_user, sign_in

EN = {"Accept-Language": "en"}


@pytest.fixture
def manager(alice: Person, carol: User) -> User:
    """Carol acts for alice with the manage-consent scope."""
    grant_proxy_to(alice, carol, scope=ProxyScope.MANAGE_CONSENT)
    return carol


@pytest.fixture
def onlooker(alice: Person) -> User:
    """A proxy of alice who may only view."""
    user = make_user("onlooker@example.test")
    grant_proxy_to(alice, user, scope=ProxyScope.VIEW)
    return user


@pytest.fixture
def signed_in_alice(client: Client, alice: Person) -> Client:
    sign_in(client, alice.user.email)
    return client


def _cell(response: Any, category: str, purpose: str) -> Any:
    for group in response.context["tiers"]:
        for row in group.rows:
            if row.category == category:
                return next(cell for cell in row.cells if cell.purpose == purpose)
    raise AssertionError(category)


def _owner(person: Person) -> User:
    assert person.user is not None
    return person.user


def _version(person: Person) -> int:
    return selectors.current_version(person)


def test_the_page_shows_each_cell_as_the_engine_answers_it(signed_in_alice: Client) -> None:
    response = signed_in_alice.get("/me/choices/", headers=EN)
    assert response.status_code == 200
    page = response.content.decode()
    assert "What it does not stop" in page
    assert "Public health: every kind of data" in page  # statutory uses are listed
    assert _cell(response, "diagnoses", "academic_research").answer.label == "Allowed after notice unless you object"
    assert _cell(response, "genomics", "academic_research").answer.label == "Only with your consent"
    assert _cell(response, "genomics", "public_health").answer.label == "Used under law"
    assert _cell(response, "diagnoses", "primary_care").answer.label == "Allowed unless you object"
    assert "High sensitivity" in page


def test_the_global_opt_out_asks_for_confirmation_and_previews_what_it_stops(
    signed_in_alice: Client, alice: Person
) -> None:
    page = signed_in_alice.get("/me/choices/opt-out/", headers=EN)
    changes = {
        (group.purpose, category): group.after.label
        for group in page.context["changes"]
        for category in group.categories
    }
    assert changes[("Academic research", "Diagnoses")] == "Stopped by your opt-out"
    assert changes[("Academic research", "Genomics")] == "Stopped by your opt-out"
    assert not [key for key in changes if key[0] in ("Public health", "Primary care")]  # care and law continue
    unconfirmed = signed_in_alice.post("/me/choices/opt-out/", {"version": 0, "opted_out": "on"}, headers=EN)
    assert unconfirmed.status_code == 200
    assert selectors.choices_of(alice).global_opt_out is None
    response = signed_in_alice.post("/me/choices/opt-out/", {"version": 0, "opted_out": "on", "confirm": "on"})
    assert response.status_code == 302
    assert selectors.choices_of(alice).global_opt_out is not None
    after = signed_in_alice.get("/me/choices/", headers=EN)
    assert _cell(after, "diagnoses", "commercial_rnd").answer.label == "Stopped by your opt-out"
    assert _cell(after, "diagnoses", "public_health").answer.label == "Used under law"


def test_a_category_page_previews_each_option_and_saves_a_refusal(signed_in_alice: Client, alice: Person) -> None:
    page = signed_in_alice.get("/me/choices/categories/lab_results/commercial_rnd/", headers=EN)
    after = {option["value"]: option["after"].label for option in page.context["options"]}
    assert after == {
        "default": "Allowed after notice unless you object",
        "permit": "Allowed by you",
        "deny": "Refused by you",
    }
    signed_in_alice.post("/me/choices/categories/lab_results/commercial_rnd/", {"version": 0, "value": "deny"})
    [directive] = selectors.choices_of(alice).categories
    assert (directive.category, directive.purpose_class, directive.value) == ("lab_results", "commercial_rnd", "deny")
    response = signed_in_alice.get("/me/choices/", headers=EN)
    cell = _cell(response, "lab_results", "commercial_rnd")
    assert (cell.answer.label, cell.answer.by_person) == ("Refused by you", True)
    signed_in_alice.post("/me/choices/categories/lab_results/commercial_rnd/", {"version": 1, "value": "default"})
    assert selectors.choices_of(alice).categories == []


def test_an_unknown_category_or_purpose_is_not_found(signed_in_alice: Client) -> None:
    assert signed_in_alice.get("/me/choices/categories/horoscope/academic_research/").status_code == 404
    assert signed_in_alice.get("/me/choices/categories/genomics/marketing/").status_code == 404


def test_duo_terms_are_previewed_in_plain_words_then_saved_in_the_wire_form(
    signed_in_alice: Client, alice: Person
) -> None:
    form = {"version": 0, "permission": "DS", "diseases": ["II", "J40-J47"], "conditions": ["NCU", "GS", "TS"]}
    preview = signed_in_alice.post("/me/choices/terms/", {**form, "months": 24, "step": "preview"}, headers=EN)
    assert preview.status_code == 200
    assert "Only research on diseases I choose" in preview.context["preview"]
    assert "No commercial use" in preview.context["preview"]
    assert "Only in Japan" in preview.context["preview"]
    assert selectors.choices_of(alice).duo_terms is None  # a preview saves nothing
    signed_in_alice.post("/me/choices/terms/", {**form, "months": 24, "step": "save"})
    directive = selectors.choices_of(alice).duo_terms
    assert directive is not None and directive.terms is not None
    terms = directive.terms
    assert terms["permission"] == "DS"
    assert terms["diseases"] == ["II", "J40-J47"]
    assert terms["modifiers"] == ["NCU", "GS", "TS"]
    assert terms["parameters"] == {"GS": ["JP"], "TS": 24}
    assert services.validate_duo_terms(terms) == terms


def test_disease_specific_terms_need_a_disease_and_a_time_limit_needs_months(
    signed_in_alice: Client, alice: Person
) -> None:
    response = signed_in_alice.post(
        "/me/choices/terms/", {"version": 0, "permission": "DS", "conditions": ["TS"], "step": "save"}
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"diseases", "months"}
    assert selectors.choices_of(alice).duo_terms is None


def test_conditions_the_editor_does_not_offer_are_kept(signed_in_alice: Client, alice: Person) -> None:
    services.set_duo_terms(
        person=alice,
        actor=_owner(alice),
        terms={
            "permission": "HMB",
            "modifiers": ["IRB", "COL"],
            "parameters": {"COL": ["東都大学"]},
            "consented_at": "2026-01-01",
        },
    )
    form = {"version": 1, "permission": "HMB", "conditions": ["NCU"], "step": "save"}
    signed_in_alice.post("/me/choices/terms/", form)
    directive = selectors.choices_of(alice).duo_terms
    assert directive is not None and directive.terms is not None
    assert directive.terms["modifiers"] == ["NCU", "COL"]
    assert directive.terms["parameters"] == {"COL": ["東都大学"]}


def test_terms_can_be_removed(signed_in_alice: Client, alice: Person) -> None:
    services.set_duo_terms(person=alice, actor=_owner(alice), terms={"permission": "HMB", "consented_at": "2026-01-01"})
    signed_in_alice.post("/me/choices/terms/", {"version": 1, "step": "remove"})
    assert selectors.choices_of(alice).duo_terms is None


def test_an_organisation_is_blocked_and_unblocked(
    signed_in_alice: Client, alice: Person, hospital: Organisation
) -> None:
    signed_in_alice.post(
        "/me/choices/organisations/block/", {"version": 0, "organisation": hospital.pk, "purpose_class": ""}
    )
    [block] = selectors.choices_of(alice).organisation_blocks
    assert (block.organisation, block.purpose_class) == (hospital, "")
    assert hospital.name in signed_in_alice.get("/me/choices/").content.decode()
    signed_in_alice.post(
        "/me/choices/organisations/unblock/", {"version": 1, "organisation": hospital.pk, "purpose_class": ""}
    )
    assert selectors.choices_of(alice).organisation_blocks == []


def test_a_stale_form_is_refused_and_shows_the_current_state(alice: Person, hospital: Organisation) -> None:
    first, second = Client(), Client()
    sign_in(first, alice.user.email)
    sign_in(second, alice.user.email)
    version = first.get("/me/choices/").context["choices"].version
    assert second.get("/me/choices/").context["choices"].version == version
    second.post("/me/choices/categories/genomics/academic_research/", {"version": version, "value": "permit"})
    response = first.post(
        "/me/choices/categories/genomics/academic_research/",
        {"version": version, "value": "deny"},
        follow=True,
        headers=EN,
    )
    page = response.content.decode()
    assert "Your choices changed elsewhere" in page
    assert "Nothing was overwritten" in page
    assert _cell(response, "genomics", "academic_research").answer.label == "Allowed by you"
    assert [d.value for d in selectors.choices_of(alice).categories] == ["permit"]
    assert ConsentEvent.objects.filter(person=alice).count() == 1


def test_each_write_kind_refuses_a_stale_version(
    signed_in_alice: Client, alice: Person, hospital: Organisation
) -> None:
    services.set_global_opt_out(person=alice, actor=_owner(alice), opted_out=True)
    stale: list[tuple[str, dict[str, Any]]] = [
        ("/me/choices/opt-out/", {"version": 0, "opted_out": "off", "confirm": "on"}),
        ("/me/choices/terms/", {"version": 0, "permission": "HMB", "step": "save"}),
        ("/me/choices/organisations/block/", {"version": 0, "organisation": hospital.pk}),
    ]
    for url, data in stale:
        response = signed_in_alice.post(url, data, follow=True, headers=EN)
        assert "Nothing was overwritten" in response.content.decode(), url
    assert _version(alice) == 1


def test_the_history_names_who_acted_and_links_each_receipt(client: Client, alice: Person, manager: User) -> None:
    services.set_global_opt_out(person=alice, actor=_owner(alice), opted_out=True)
    services.set_category_choice(
        person=alice, actor=manager, category="genomics", purpose_class="academic_research", value="deny"
    )
    sign_in(client, alice.user.email)
    response = client.get("/me/choices/history/", headers=EN)
    page = response.content.decode()
    assert "carol@example.test (proxy)" in page
    assert "You" in page
    assert "Refuse Genomics for Academic research" in page
    for event in ConsentEvent.objects.filter(person=alice):
        assert f"/receipts/{event.receipt.pk}/" in page
        assert f"/receipts/{event.receipt.pk}/download/" in page


def test_a_proxy_with_manage_consent_changes_choices_under_a_banner(
    client: Client, alice: Person, manager: User
) -> None:
    sign_in(client, manager.email)
    page = client.get(f"/people/{alice.pk}/choices/", headers=EN).content.decode()
    assert "You are changing choices for 佐藤 花子" in page
    assert f"/people/{alice.pk}/choices/opt-out/" in page
    client.post(f"/people/{alice.pk}/choices/opt-out/", {"version": 0, "opted_out": "on", "confirm": "on"})
    event = ConsentEvent.objects.get(person=alice)
    assert (event.actor, event.actor_role, event.channel) == (manager, "proxy", "proxy")


def test_a_view_only_proxy_sees_the_choices_but_cannot_change_them(
    client: Client, alice: Person, onlooker: User, hospital: Organisation
) -> None:
    sign_in(client, onlooker.email)
    response = client.get(f"/people/{alice.pk}/choices/", headers=EN)
    page = response.content.decode()
    assert response.status_code == 200
    assert "You are viewing the choices of 佐藤 花子" in page
    assert "opt-out/" not in page
    assert '<form method="post" action="/people/' not in page
    assert AuditEvent.objects.filter(person=alice, action="proxy.viewed_choices", actor=onlooker).exists()
    base = f"/people/{alice.pk}/choices"
    for url, data in [
        (f"{base}/opt-out/", {"version": 0, "opted_out": "on", "confirm": "on"}),
        (f"{base}/categories/genomics/academic_research/", {"version": 0, "value": "permit"}),
        (f"{base}/terms/", {"version": 0, "permission": "HMB", "step": "save"}),
        (f"{base}/organisations/block/", {"version": 0, "organisation": hospital.pk}),
    ]:
        assert client.post(url, data).status_code == 404, url
    assert client.get(f"{base}/opt-out/").status_code == 404
    assert not ConsentEvent.objects.filter(person=alice).exists()


def test_another_persons_choices_are_not_found(client: Client, alice: Person, bob: Person) -> None:
    sign_in(client, bob.user.email)
    base = f"/people/{alice.pk}/choices"
    for url in [f"{base}/", f"{base}/history/", f"{base}/opt-out/", f"{base}/terms/"]:
        assert client.get(url).status_code == 404, url
    response = client.post(f"{base}/opt-out/", {"version": 0, "opted_out": "on", "confirm": "on"})
    assert response.status_code == 404
    assert client.get("/people/not-a-uuid/choices/").status_code == 404
    assert not ConsentEvent.objects.filter(person=alice).exists()


def test_signing_out_leads_to_the_login_page(client: Client) -> None:
    response = client.get("/me/choices/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_page_query_count_does_not_grow_with_history_and_blocks(
    signed_in_alice: Client, alice: Person, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    for n in range(6):
        organisation = phr_services.create_organisation(name=f"病院{n}", kind="hospital", actor=None)
        services.set_organisation_block(person=alice, actor=_owner(alice), organisation=organisation, blocked=True)
        services.set_category_choice(
            person=alice, actor=_owner(alice), category="lifelog", purpose_class="commercial_rnd", value="deny"
        )
    with django_assert_max_num_queries(25):
        assert signed_in_alice.get("/me/choices/").status_code == 200
    with django_assert_max_num_queries(12):
        assert signed_in_alice.get("/me/choices/history/").status_code == 200


def test_the_history_shows_staff_with_the_channel_of_the_request(client: Client, alice: Person, erin: User) -> None:
    services.set_global_opt_out(
        person=alice, actor=erin, opted_out=True, channel="phone", evidence="通話記録 2026-11-21 #42"
    )
    sign_in(client, _owner(alice).email)
    page = client.get("/me/choices/", headers=EN).content.decode()
    assert "Operator staff, at the person&#x27;s request · Telephone" in page
