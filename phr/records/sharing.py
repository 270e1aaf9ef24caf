"""Sharing with a clinician: a time-limited link (and its QR code) to a read-only summary of chosen categories.

The token is shown once, to the person who made it; only its SHA-256 digest is stored, so a database
leak gives no working link. An optional passcode is stored only as a slow hash (Django's password
hashers); ``MAX_FAILURES`` wrong passcodes within ``FAILURE_WINDOW`` lock the link for ``LOCK_FOR``.
Every opening and every refused passcode is recorded as a ``RecordAccess`` the person sees.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from phr.ids import parse_uuid
from phr.models import Person, ShareLink, User
from phr.models.access_log import AccessRoute
from phr.records.access_log import record_access
from phr.records.summary import SUMMARY_CATEGORIES, RecordSummary, summary_of
from phr.services import record_audit

MAX_DAYS = 30
PASSCODE_MIN = 6
PASSCODE_MAX = 64
GENERATED_DIGITS = 8
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=30)
# How long an accepted passcode keeps the link open in that browser's session.
OPEN_FOR = timedelta(minutes=15)
SHAREABLE_CATEGORIES = SUMMARY_CATEGORIES
OPENED_PAGES = ("records.shared", "records.shared_print")
REFUSED_PAGE = "records.shared_passcode_refused"


class PasscodeCheck(enum.Enum):
    ACCEPTED = "accepted"
    REFUSED = "refused"
    LOCKED = "locked"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate_passcode() -> str:
    """Eight random digits: easy to read out over the phone, and guessing is stopped by the lock."""
    return "".join(secrets.choice("0123456789") for _ in range(GENERATED_DIGITS))


def _checked_categories(categories: Iterable[str]) -> list[str]:
    chosen = set(categories)
    unknown = chosen - set(SHAREABLE_CATEGORIES)
    if unknown:
        raise ValueError(f"not a category a link can share: {', '.join(sorted(unknown))}")
    if not chosen:
        raise ValueError("a share link shares at least one category")
    return [value for value in SHAREABLE_CATEGORIES if value in chosen]


@transaction.atomic
def create_share_link(
    *, person: Person, actor: User, label: str, days: int, categories: Iterable[str], passcode: str = ""
) -> tuple[ShareLink, str]:
    """A new link valid for ``days`` (1–30) showing only ``categories``; returns it with its token, not kept."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"a share link lasts 1 to {MAX_DAYS} days")
    shared = _checked_categories(categories)
    if passcode and not PASSCODE_MIN <= len(passcode) <= PASSCODE_MAX:
        raise ValueError(f"a passcode has {PASSCODE_MIN} to {PASSCODE_MAX} characters")
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    link = ShareLink.objects.create(
        person=person,
        created_by=actor,
        token_digest=_digest(token),
        label=label[:100],
        created_at=now,
        expires_at=now + timedelta(days=days),
        categories=shared,
        passcode_hash=make_password(passcode) if passcode else "",
    )
    record_audit(
        actor=actor,
        person=person,
        action="records.share_link_created",
        link=str(link.pk),
        days=days,
        categories=shared,
        passcode=bool(passcode),
    )
    return link, token


@transaction.atomic
def revoke_share_link(*, link: ShareLink, actor: User) -> None:
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        record_audit(actor=actor, person=link.person, action="records.share_link_revoked", link=str(link.pk))


@transaction.atomic
def check_passcode(*, link: ShareLink, passcode: str, actor: User | None, at: datetime | None = None) -> PasscodeCheck:
    """Check a passcode typed by whoever holds the link; a refusal (also while locked) is logged.

    The link row is locked while counting, so parallel guesses cannot slip past ``MAX_FAILURES``."""
    now = at or timezone.now()
    current = ShareLink.objects.select_for_update().get(pk=link.pk)
    if current.is_locked(now):
        outcome = PasscodeCheck.LOCKED
    elif passcode and len(passcode) <= PASSCODE_MAX and check_password(passcode, current.passcode_hash):
        if current.failed_passcodes or current.failures_since:
            current.failed_passcodes, current.failures_since = 0, None
            current.save(update_fields=["failed_passcodes", "failures_since"])
        _copy_lock_state(current, link)
        return PasscodeCheck.ACCEPTED
    else:
        if current.failures_since is None or current.failures_since <= now - FAILURE_WINDOW:
            current.failed_passcodes, current.failures_since = 0, now
        current.failed_passcodes += 1
        outcome = PasscodeCheck.REFUSED
        if current.failed_passcodes >= MAX_FAILURES:
            current.locked_until = now + LOCK_FOR
            current.failed_passcodes, current.failures_since = 0, None
            outcome = PasscodeCheck.LOCKED
        current.save(update_fields=["failed_passcodes", "failures_since", "locked_until"])
    record_access(
        person=current.person,
        actor=actor,
        route=AccessRoute.SHARE_LINK,
        page=REFUSED_PAGE,
        subject=outcome.value,
        share_link=current,
    )
    _copy_lock_state(current, link)
    return outcome


def _copy_lock_state(source: ShareLink, target: ShareLink) -> None:
    target.failed_passcodes = source.failed_passcodes
    target.failures_since = source.failures_since
    target.locked_until = source.locked_until


def record_opening(*, link: ShareLink, actor: User | None, page: str) -> None:
    """Log one view of the shared summary (or its print page)."""
    record_access(person=link.person, actor=actor, route=AccessRoute.SHARE_LINK, page=page, share_link=link)


def active_link_for_token(token: str) -> ShareLink | None:
    """The live link a token opens, or None (unknown, revoked or expired: all look the same)."""
    if not token or len(token) > 100:
        return None
    link = ShareLink.objects.select_related("person").filter(token_digest=_digest(token)).first()
    if link is None or not link.is_active(timezone.now()):
        return None
    return link


def shared_summary(link: ShareLink) -> RecordSummary:
    """What the link shows: the summary of the categories the person chose for it, and nothing else."""
    return summary_of(link.person, link.categories)


def share_links_of(person: Person) -> QuerySet[ShareLink]:
    """The person's latest links, each with how often it was opened."""
    openings = Count("accesses", filter=Q(accesses__page__in=OPENED_PAGES))
    return ShareLink.objects.filter(person=person).annotate(openings=openings).order_by("-created_at")[:50]


def own_link(person: Person, link_id: str) -> ShareLink | None:
    """One of the person's own links, or None (also for a bad id or another person's link)."""
    pk = parse_uuid(link_id)
    return None if pk is None else ShareLink.objects.select_related("person").filter(pk=pk, person=person).first()


def _session_key(link: ShareLink) -> str:
    return f"share-open:{link.pk}"


def remember_opening(session: SessionBase, link: ShareLink) -> None:
    """After the passcode was accepted: this browser may open this link (and only this one) for a while."""
    session[_session_key(link)] = timezone.now().timestamp()


def opened_in_session(session: SessionBase, link: ShareLink) -> bool:
    """Whether this browser entered the link's passcode within ``OPEN_FOR``; a link without one is always open."""
    if not link.has_passcode:
        return True
    opened = session.get(_session_key(link))
    if not isinstance(opened, int | float):
        return False
    return 0 <= timezone.now().timestamp() - opened < OPEN_FOR.total_seconds()
