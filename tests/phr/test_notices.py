"""Person notices: stored for the person's page, mailed once (to proxies too where it matters), no health data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.test import Client

from config.celery import app as celery_app
from phr.models import Person, PersonNotice, User
from phr.notices import notify_person
from phr.notices.mail import mail_notice
from tests.conftest import grant_proxy_to, make_citizen, sign_in


@pytest.fixture
def run_tasks_here() -> Iterator[None]:
    """Run Celery tasks in the test process (the real task code, without a broker)."""
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = False


AT = datetime(2026, 11, 20, 3, 15, tzinfo=UTC)


def test_a_break_glass_notice_is_mailed_to_the_person_and_their_proxies_after_commit(
    alice: Person, carol: User, run_tasks_here, django_capture_on_commit_callbacks
) -> None:
    grant_proxy_to(alice, carol)

    with django_capture_on_commit_callbacks(execute=True):
        notice = notify_person(alice, "break_glass", at=AT, category="patient_unconscious")
        assert mail.outbox == []  # nothing leaves before the notice is committed

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == sorted([alice.user.email, carol.email])
    assert "緊急" in message.subject  # Japanese, the person's preferred language
    assert "/me/records/access-log/" in message.body
    # No health data, not even the reason category, leaves the site.
    assert "意識" not in message.body and "unconscious" not in message.body
    notice.refresh_from_db()
    assert notice.mailed_at is not None and notice.read_at is None


def test_an_export_notice_goes_to_the_person_only(
    alice: Person, carol: User, run_tasks_here, django_capture_on_commit_callbacks
) -> None:
    grant_proxy_to(alice, carol)

    with django_capture_on_commit_callbacks(execute=True):
        notify_person(alice, "export_ready", link="/me/records/export/", expires_at=AT)

    assert [m.to for m in mail.outbox] == [[alice.user.email]]
    assert "http://" in mail.outbox[0].body and "/me/records/export/" in mail.outbox[0].body


def test_a_second_delivery_of_the_mail_task_sends_nothing(alice: Person, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        notice = notify_person(alice, "export_ready")

    assert mail_notice(str(notice.pk)) is True
    assert mail_notice(str(notice.pk)) is False
    assert len(mail.outbox) == 1


def test_an_english_speaker_gets_the_mail_in_english(run_tasks_here, django_capture_on_commit_callbacks, db) -> None:
    person = make_citizen("emma@example.test", "Smith", "Emma")
    person.preferred_language = "en"
    person.save(update_fields=["preferred_language"])

    with django_capture_on_commit_callbacks(execute=True):
        notify_person(person, "break_glass", at=AT, category="emergency_care")

    assert mail.outbox[0].subject == "[Mamori] Your record was opened in an emergency"


def test_bad_notices_are_refused_and_nothing_is_stored(alice: Person) -> None:
    with pytest.raises(ValueError, match="unknown notice kind"):
        notify_person(alice, "lab_results_are_bad")
    with pytest.raises(ValueError, match="path on this site"):
        notify_person(alice, "export_ready", link="https://evil.example/")
    with pytest.raises(ValueError, match="path on this site"):
        notify_person(alice, "export_ready", link="//evil.example/")

    assert not PersonNotice.objects.exists()


def test_the_person_sees_unread_notices_on_their_page_and_marks_them_read(client: Client, alice: Person) -> None:
    notify_person(alice, "break_glass", at=AT, category="emergency_care")
    sign_in(client, alice.user.email)

    page = client.get("/me/").content.decode()
    assert "緊急時に開かれました" in page and "救急医療" in page

    notice = PersonNotice.objects.get(person=alice)
    response = client.post(f"/me/notices/{notice.pk}/read/")
    assert response.status_code == 302

    notice.refresh_from_db()
    assert notice.read_at is not None
    assert "緊急時に開かれました" not in client.get("/me/").content.decode()


def test_nobody_else_marks_a_persons_notice_read(client: Client, alice: Person, bob: Person, carol: User) -> None:
    grant_proxy_to(alice, carol)
    notice = notify_person(alice, "export_ready")

    for user in (bob.user, carol):
        client.logout()
        sign_in(client, user.email)
        assert client.post(f"/me/notices/{notice.pk}/read/").status_code == 404
    assert client.post("/me/notices/not-a-uuid/read/").status_code == 404

    notice.refresh_from_db()
    assert notice.read_at is None
