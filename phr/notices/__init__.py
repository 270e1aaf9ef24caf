"""Person notices: tell a person (in the app and by mail) that something happened to their record.

``notify_person(person, kind, **context)`` stores the notice and, once the transaction commits, queues its
mail on the Celery ``notices`` queue. Context values are kept as plain strings (datetimes as ISO 8601); they
name when and where, never what the record holds.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from phr.ids import parse_uuid
from phr.models import Person, PersonNotice, User
from phr.models.notices import NoticeKind

# Kinds also mailed to the person's active proxies: someone acting for a child or a ward should hear of it.
TELL_PROXIES = frozenset({NoticeKind.BREAK_GLASS})


def _plain(key: str, value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    if key == "link" and (not text.startswith("/") or text.startswith("//")):
        raise ValueError("a notice link must be a path on this site")
    return text[:500]


@transaction.atomic
def notify_person(person: Person, kind: str, **context: object) -> PersonNotice:
    """Store an in-app notice for ``person`` and mail it (and, for some kinds, their proxies) after commit.

    ``break_glass`` takes ``at`` and ``category``; ``export_ready`` takes an optional ``link`` (a site path)
    and ``expires_at``."""
    if kind not in NoticeKind.values:
        raise ValueError(f"unknown notice kind: {kind}")
    notice = PersonNotice.objects.create(
        person=person, kind=kind, context={key: _plain(key, value) for key, value in context.items()}
    )
    from phr.notices.tasks import mail_person_notice

    notice_id = str(notice.pk)
    transaction.on_commit(lambda: mail_person_notice.delay(notice_id))
    return notice


def unread_notices(person: Person, *, limit: int = 10) -> QuerySet[PersonNotice]:
    return PersonNotice.objects.filter(person=person, read_at__isnull=True).order_by("-created_at")[:limit]


def own_notice(user: User, notice_id: object) -> PersonNotice | None:
    """Fetch-and-authorise: a notice on the user's own record, or None."""
    key = parse_uuid(notice_id)
    if key is None or not user.is_authenticated:
        return None
    return PersonNotice.objects.filter(pk=key, person__user=user).first()


def mark_read(notice: PersonNotice) -> PersonNotice:
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])
    return notice
