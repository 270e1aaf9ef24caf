"""Sharing with a clinician: a time-limited link (and its QR code) to a read-only summary of the record.

The token is shown once, to the person who made it; only its SHA-256 digest is stored, so a database
leak gives no working link. Every use of a link is recorded as a ``RecordAccess`` the person sees.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from phr.models import Person, ShareLink, User
from phr.services import record_audit

MAX_DAYS = 30


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def create_share_link(*, person: Person, actor: User, label: str, days: int) -> tuple[ShareLink, str]:
    """A new link valid for ``days`` (1–30); returns it with its token, which is not kept."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"a share link lasts 1 to {MAX_DAYS} days")
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    link = ShareLink.objects.create(
        person=person,
        created_by=actor,
        token_digest=_digest(token),
        label=label[:100],
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    record_audit(actor=actor, person=person, action="records.share_link_created", link=str(link.pk), days=days)
    return link, token


@transaction.atomic
def revoke_share_link(*, link: ShareLink, actor: User) -> None:
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        record_audit(actor=actor, person=link.person, action="records.share_link_revoked", link=str(link.pk))


def active_link_for_token(token: str) -> ShareLink | None:
    """The live link a token opens, or None (unknown, revoked or expired: all look the same)."""
    if not token or len(token) > 100:
        return None
    link = ShareLink.objects.select_related("person").filter(token_digest=_digest(token)).first()
    if link is None or not link.is_active(timezone.now()):
        return None
    return link


def share_links_of(person: Person) -> QuerySet[ShareLink]:
    return ShareLink.objects.filter(person=person).order_by("-created_at")[:50]


def own_link(person: Person, link_id: str) -> ShareLink | None:
    """One of the person's own links, or None (also for a bad id or another person's link)."""
    try:
        pk = uuid.UUID(link_id)
    except ValueError:
        return None
    return ShareLink.objects.select_related("person").filter(pk=pk, person=person).first()
