"""Break-glass (緊急アクセス: emergency access): open, list and review operator staff's emergency reads.

A staff member holding the ``break_glass`` role in the operator organisation finds a person by one of their
identifiers (through the blind index, never by name), states a reason, and gets a grant to read that
person's record pages for ``GRANT_MINUTES``. The person is told at once; every page read under the grant is a
``RecordAccess`` with the reason; operator administrators review each grant afterwards.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from phr import roles
from phr.crypto.blind_index import normalise_identifier_value
from phr.ids import parse_uuid
from phr.models import BreakGlassGrant, Person, RecordAccess, User
from phr.models.break_glass import REASON_MIN_LENGTH, ReasonCategory
from phr.models.notices import NoticeKind
from phr.notices import notify_person
from phr.roles import Action
from phr.selectors import person_by_identifier
from phr.services import record_audit

GRANT_MINUTES = 60


class BreakGlassRefused(Exception):
    """The emergency access cannot be opened or reviewed; the message says why, in the user's language."""


@dataclass(frozen=True)
class Found:
    """A person found by identifier, with the identifier masked for the record of how they were found."""

    person: Person
    system: str
    masked: str


def mask(value: str) -> str:
    """The last few characters only (never more than a third of the value), e.g. ``••••5678``."""
    shown = min(4, len(value) // 3)
    return "••••" + (value[-shown:] if shown else "")


LOOKUPS_PER_HOUR = 10


def _lookup_allowed(staff: User) -> bool:
    """At most ``LOOKUPS_PER_HOUR`` identifier lookups per staff member per clock hour (shared cache):
    emergency access is for one patient at a time, not for searching who is registered."""
    key = f"mamori:break-glass:lookups:{staff.pk}:{int(time.time() // 3600)}"
    cache.add(key, 0, timeout=3700)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3700)
        count = 1
    return count <= LOOKUPS_PER_HOUR


def find_person(*, staff: User, system: str, value: str) -> Found | None:
    """The person with this identifier (system and value); a miss is audited too (who searched, and where)."""
    if not roles.can(staff, Action.BREAK_GLASS):
        raise BreakGlassRefused(_("You do not hold the emergency access role."))
    system, value = system.strip(), normalise_identifier_value(value)
    if not system or not value:
        raise BreakGlassRefused(_("Enter the identifier system and the number."))
    if not _lookup_allowed(staff):
        record_audit(actor=staff, person=None, action="break_glass.lookups_limited", system=system)
        raise BreakGlassRefused(
            _("Too many emergency lookups in the last hour. Ask an operator administrator if this is an emergency.")
        )
    person = person_by_identifier(system, value)
    if person is None:
        record_audit(actor=staff, person=None, action="break_glass.lookup_missed", system=system)
        return None
    return Found(person=person, system=system, masked=mask(value))


@transaction.atomic
def open_grant(*, staff: User, found: Found, reason_category: str, reason: str) -> BreakGlassGrant:
    """Open a time-limited grant, audit it and notify the person, all in one transaction."""
    if not roles.can(staff, Action.BREAK_GLASS):
        raise BreakGlassRefused(_("You do not hold the emergency access role."))
    reason = reason.strip()
    if reason_category not in ReasonCategory.values:
        raise BreakGlassRefused(_("Choose a reason category."))
    if len(reason) < REASON_MIN_LENGTH:
        raise BreakGlassRefused(
            _("Explain the reason in at least %(count)d characters.") % {"count": REASON_MIN_LENGTH}
        )
    now = timezone.now()
    grant = BreakGlassGrant.objects.create(
        person=found.person,
        staff=staff,
        identifier_system=found.system,
        identifier_masked=found.masked,
        reason_category=reason_category,
        reason=reason[:500],
        opened_at=now,
        expires_at=now + timedelta(minutes=GRANT_MINUTES),
    )
    record_audit(
        actor=staff, person=found.person, action="break_glass.opened", grant=str(grant.pk), category=reason_category
    )
    notify_person(found.person, NoticeKind.BREAK_GLASS, at=now, category=reason_category)
    return grant


def grants_opened_by(staff: User, *, limit: int = 20) -> QuerySet[BreakGlassGrant]:
    return BreakGlassGrant.objects.filter(staff=staff).order_by("-opened_at")[:limit]


def grants_for_review(*, reviewed: bool) -> QuerySet[BreakGlassGrant]:
    """Grants with their staff member and the pages read under them (no names of the persons read)."""
    pages = Prefetch(
        "accesses", queryset=RecordAccess.objects.only("id", "break_glass_id", "page", "subject", "at").order_by("at")
    )
    return (
        BreakGlassGrant.objects.filter(reviewed_at__isnull=not reviewed)
        .select_related("staff", "reviewed_by")
        .prefetch_related(pages)
        .order_by("-opened_at")
    )


def grant_for_review(grant_id: object) -> BreakGlassGrant | None:
    key = parse_uuid(grant_id)
    return None if key is None else BreakGlassGrant.objects.filter(pk=key).first()


@transaction.atomic
def review_grant(*, grant: BreakGlassGrant, reviewer: User, note: str) -> BreakGlassGrant:
    """Mark a grant reviewed with the administrator's note; audited. A grant is reviewed once."""
    if not roles.can(reviewer, Action.REVIEW_BREAK_GLASS):
        raise BreakGlassRefused(_("Only an operator administrator reviews emergency access."))
    if reviewer.pk == grant.staff_id:
        raise BreakGlassRefused(_("Someone other than the person who opened it must review an emergency access."))
    grant = BreakGlassGrant.objects.select_for_update().get(pk=grant.pk)
    if grant.reviewed_at is not None:
        raise BreakGlassRefused(_("This emergency access was already reviewed."))
    grant.reviewed_at, grant.reviewed_by, grant.review_note = timezone.now(), reviewer, note.strip()[:1000]
    grant.save(update_fields=["reviewed_at", "reviewed_by", "review_note"])
    record_audit(actor=reviewer, person=grant.person, action="break_glass.reviewed", grant=str(grant.pk))
    return grant
