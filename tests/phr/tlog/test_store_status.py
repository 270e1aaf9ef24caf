"""A stalled integrator (an entry queued longer than MAMORI_LOG_STALL_SECONDS) shows on /readyz and to
operator staff; the beat schedule runs the integrator every few seconds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from config.celery import app as celery_app
from phr import services
from phr.models import LogEntry, User
from phr.tlog.integrate import integrate_all
from phr.tlog.tasks import integrate_logs_task
from tests.conftest import sign_in_with_totp
from tests.phr.tlog.store_helpers import checkpoint_dir

__all__ = ["checkpoint_dir"]
pytestmark = pytest.mark.usefixtures("checkpoint_dir")


def _queue_old_entry() -> None:
    """An audit entry queued ten minutes ago and never integrated."""
    LogEntry.objects.create(log="audit", body=b"{}", sequenced_at=timezone.now() - timedelta(minutes=10))


def test_readyz_says_the_logs_are_ok_when_nothing_waits_long(client: Client, db) -> None:
    services.record_audit(actor=None, person=None, action="test.just_now")

    body = client.get("/readyz").json()

    assert body["checks"]["logs"] == "ok" and "stalled_logs" not in body


def test_readyz_shows_a_stalled_integrator_without_taking_the_site_out_of_rotation(client: Client, db) -> None:
    _queue_old_entry()

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["logs"] == "stalled" and response.json()["stalled_logs"] == ["audit"]


def test_once_integrated_the_log_is_no_longer_stalled(client: Client, db) -> None:
    _queue_old_entry()
    integrate_all()

    assert client.get("/readyz").json()["checks"]["logs"] == "ok"


def test_beat_runs_the_integrator_every_few_seconds_instead_of_sealing_audit_events() -> None:
    schedule = celery_app.conf.beat_schedule

    assert schedule["phr.integrate_logs"]["schedule"] <= 5
    assert "phr.seal_audit_events" not in schedule


def test_the_beat_task_integrates_what_was_queued(db) -> None:
    services.record_audit(actor=None, person=None, action="test.queued")

    assert integrate_logs_task() >= 1
    assert not LogEntry.objects.filter(index__isnull=True).exists()


def test_operator_staff_see_a_stalled_integrator_on_the_staff_home(client: Client, erin: User) -> None:
    _queue_old_entry()
    sign_in_with_totp(client, erin.email)

    page = client.get("/staff/").content.decode()

    assert "Tamper-evident logs" in page or "改ざん検知ログ" in page
    assert "Stalled" in page or "停止中" in page


def test_staff_without_the_power_see_no_log_status(client: Client, dave: User) -> None:
    _queue_old_entry()
    sign_in_with_totp(client, dave.email)

    page = client.get("/staff/")

    assert page.status_code == 200
    assert 'id="logs-title"' not in page.content.decode()
