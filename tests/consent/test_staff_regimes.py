"""Regimes for operator administrators: the list, new versions that take effect later, never an edit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from consent import services
from consent.errors import ConsentNotAllowed, InvalidDirective
from consent.models import Regime
from phr.models.audit import AuditEvent
from tests.conftest import sign_in_with_totp


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_the_defaults_of_design_section_three_are_seeded(db) -> None:
    seeded = {(r.purpose_class, r.tier): (r.basis, r.objection_window_days) for r in Regime.objects.filter(version=1)}
    assert seeded[("academic_research", 1)] == ("opt_out", 30)
    assert seeded[("commercial_rnd", 2)] == ("opt_out", 30)
    assert Regime.objects.get(purpose_class="commercial_rnd", tier=1).notice_must_state_commercial_use
    assert {seeded[(c, 3)][0] for c in ("primary_care", "academic_research", "commercial_rnd")} == {"opt_in"}
    assert {seeded[("public_health", t)][0] for t in (1, 2, 3)} == {"statutory"}
    assert Regime.objects.get(purpose_class="primary_care", tier=1).notice_by_publication
    assert len(seeded) == 12


def test_an_administrator_sees_every_version(erin, client: Client) -> None:
    sign_in_with_totp(client, "erin@example.test")
    response = client.get("/staff/regimes/")
    assert response.status_code == 200
    assert response.content.decode().count("<tr>") == 13


def test_an_administrator_creates_a_version_that_closes_the_current_one(erin, client: Client) -> None:
    sign_in_with_totp(client, "erin@example.test")
    start = timezone.now() + timedelta(days=30)
    response = client.post(
        "/staff/regimes/new/",
        {
            "purpose_class": "academic_research",
            "tier": "2",
            "basis": "opt_out",
            "objection_window_days": "60",
            "notice_requirements": "Notify by post as well.",
            "effective_from": _local(start),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    old, new = Regime.objects.filter(purpose_class="academic_research", tier=2).order_by("version")
    assert (new.version, new.objection_window_days, new.created_by) == (2, 60, erin)
    assert old.effective_to == new.effective_from
    assert old.basis == "opt_out" and old.objection_window_days == 30
    assert AuditEvent.objects.filter(action="regime.version_created").exists()


def test_a_version_in_the_past_is_refused_with_a_message(erin, client: Client) -> None:
    sign_in_with_totp(client, "erin@example.test")
    response = client.post(
        "/staff/regimes/new/",
        {
            "purpose_class": "academic_research",
            "tier": "1",
            "basis": "opt_in",
            "effective_from": _local(timezone.now() - timedelta(days=1)),
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "past versions are never changed" in response.content.decode()
    assert Regime.objects.filter(purpose_class="academic_research", tier=1).count() == 1


def test_a_reviewer_may_not_set_regimes(dave, client: Client) -> None:
    sign_in_with_totp(client, "dave@example.test")
    assert client.get("/staff/regimes/").status_code == 403
    assert client.get("/staff/regimes/new/").status_code == 403


def test_tier_three_cannot_be_opt_out(erin) -> None:
    with translation.override("en"), pytest.raises(InvalidDirective, match="Tier 3"):
        services.create_regime_version(
            actor=erin,
            purpose_class="academic_research",
            tier=3,
            basis="opt_out",
            objection_window_days=30,
            effective_from=timezone.now() + timedelta(days=1),
        )


def test_a_new_version_must_start_after_the_latest_one(erin) -> None:
    later = timezone.now() + timedelta(days=60)
    services.create_regime_version(
        actor=erin, purpose_class="public_health", tier=1, basis="prohibited", effective_from=later
    )
    with translation.override("en"), pytest.raises(InvalidDirective, match="after the latest"):
        services.create_regime_version(
            actor=erin,
            purpose_class="public_health",
            tier=1,
            basis="statutory",
            effective_from=later - timedelta(days=1),
        )


def test_only_operator_administrators_create_versions(dave) -> None:
    with pytest.raises(ConsentNotAllowed):
        services.create_regime_version(
            actor=dave,
            purpose_class="public_health",
            tier=1,
            basis="statutory",
            effective_from=timezone.now() + timedelta(days=1),
        )


def test_the_admin_shows_events_and_receipts_read_only(erin, alice, client: Client) -> None:
    services.set_global_opt_out(person=alice, actor=alice.user, opted_out=True)
    sign_in_with_totp(client, "erin@example.test")
    assert client.get("/admin/consent/consentevent/").status_code == 200
    assert client.get("/admin/consent/consentevent/add/").status_code == 403
    assert client.get("/admin/consent/receipt/").status_code == 200
    assert client.get("/admin/consent/regime/add/").status_code == 403  # versions are added on the staff page
