"""Consent services: each write appends an event with a receipt, bumps the version, refuses stale writes."""

from __future__ import annotations

import pytest

from consent import selectors, services
from consent.errors import ConsentConflict, ConsentNotAllowed, InvalidDirective
from consent.models import ConsentEvent, ConsentState, Directive, Receipt


def test_a_first_choice_creates_the_state_at_version_one_with_an_event_and_receipt(alice) -> None:
    event = services.set_global_opt_out(person=alice, actor=alice.user, opted_out=True)
    assert event.sequence == 1
    assert ConsentState.objects.get(person=alice).version == 1
    assert Receipt.objects.get(event=event).payload["state"]["version"] == 1
    assert [d["kind"] for d in ConsentState.objects.get(person=alice).directives] == ["global_opt_out"]


def test_a_newer_choice_on_the_same_scope_replaces_the_older(alice) -> None:
    services.set_category_choice(
        person=alice, actor=alice.user, category="genomics", purpose_class="academic_research", value="permit"
    )
    event = services.set_category_choice(
        person=alice, actor=alice.user, category="genomics", purpose_class="academic_research", value="deny"
    )
    active = Directive.objects.filter(person=alice, revoked_at__isnull=True)
    assert [d.value for d in active] == ["deny"]
    assert event.changes["revoked"][0]["value"] == "permit"
    assert selectors.current_version(alice) == 2


def test_a_write_based_on_a_stale_version_is_refused_and_changes_nothing(alice) -> None:
    services.set_global_opt_out(person=alice, actor=alice.user, opted_out=True)
    with pytest.raises(ConsentConflict) as raised:
        services.set_global_opt_out(person=alice, actor=alice.user, opted_out=False, expected_version=0)
    assert (raised.value.expected, raised.value.current) == (0, 1)
    assert ConsentEvent.objects.filter(person=alice).count() == 1
    assert selectors.choices_of(alice).global_opt_out is not None


def test_a_write_with_the_current_version_goes_through(alice) -> None:
    services.set_global_opt_out(person=alice, actor=alice.user, opted_out=True)
    event = services.set_global_opt_out(person=alice, actor=alice.user, opted_out=False, expected_version=1)
    assert event.sequence == 2
    assert selectors.choices_of(alice).global_opt_out is None


def test_a_proxy_with_the_manage_consent_scope_acts_and_is_recorded_as_proxy(alice, parent) -> None:
    event = services.set_global_opt_out(person=alice, actor=parent, opted_out=True)
    assert (event.channel, event.actor_role, event.proxy is not None) == ("proxy", "proxy", True)
    assert alice.audit_events.filter(action="consent.changed_by_proxy").exists()


def test_a_proxy_who_may_only_view_records_cannot_change_choices(alice, viewer) -> None:
    with pytest.raises(ConsentNotAllowed):
        services.set_global_opt_out(person=alice, actor=viewer, opted_out=True)
    assert not ConsentEvent.objects.exists()


def test_another_citizen_cannot_change_choices(alice, bob) -> None:
    with pytest.raises(ConsentNotAllowed):
        services.set_global_opt_out(person=alice, actor=bob.user, opted_out=True)


def test_staff_record_a_paper_request_only_with_evidence(alice, erin) -> None:
    with pytest.raises(ConsentNotAllowed):
        services.set_global_opt_out(person=alice, actor=erin, opted_out=True, channel="paper")
    event = services.set_global_opt_out(
        person=alice, actor=erin, opted_out=True, channel="paper", evidence="opt-out form 2026-117, ID checked"
    )
    assert (event.channel, event.actor_role, event.evidence) == ("paper", "staff", "opt-out form 2026-117, ID checked")
    assert event.receipt.payload["event"]["evidence_recorded"] is True
    assert "2026-117" not in str(event.receipt.payload)


def test_a_citizen_cannot_use_the_paper_channel(alice) -> None:
    with pytest.raises(ConsentNotAllowed):
        services.set_global_opt_out(person=alice, actor=alice.user, opted_out=True, channel="paper", evidence="x")


def test_unknown_categories_purposes_and_terms_are_refused(alice) -> None:
    with pytest.raises(InvalidDirective):
        services.set_category_choice(person=alice, actor=alice.user, category="dna", purpose_class="", value="deny")
    with pytest.raises(InvalidDirective):
        services.set_category_choice(person=alice, actor=alice.user, category="", purpose_class="fun", value="deny")
    with pytest.raises(InvalidDirective) as raised:
        services.set_duo_terms(
            person=alice, actor=alice.user, terms={"permission": "XYZ", "consented_at": "2026-01-01"}
        )
    assert raised.value.problems
    assert not ConsentEvent.objects.exists()


def test_accepting_a_project_keeps_the_categories_shown(alice, study) -> None:
    services.decide_project(person=alice, actor=alice.user, project=study, accept=True, categories=["diagnoses"])
    (choice,) = selectors.choices_of(alice).projects
    assert choice.categories == ["diagnoses"]
    with pytest.raises(InvalidDirective):
        services.decide_project(person=alice, actor=alice.user, project=study, accept=True, categories=["genomics"])


def test_events_and_receipts_are_append_only(alice) -> None:
    event = services.set_global_opt_out(person=alice, actor=alice.user, opted_out=True)
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    with pytest.raises(ValueError, match="never"):
        event.receipt.save()


def test_choices_load_in_two_queries(alice, study, hospital, django_assert_num_queries) -> None:
    services.decide_project(person=alice, actor=alice.user, project=study, accept=True)
    services.set_organisation_block(person=alice, actor=alice.user, organisation=hospital, blocked=True)
    services.set_contact_preferences(person=alice, actor=alice.user, preferences={"email": True, "sms": False})
    with django_assert_num_queries(2):
        choices = selectors.choices_of(alice)
        assert choices.projects[0].project.organisation.name
        assert choices.organisation_blocks[0].organisation.name
    assert choices.contact_preferences == {"email": True, "sms": False}
