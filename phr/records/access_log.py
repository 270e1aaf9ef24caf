"""Recording and listing reads of a person's record by anyone other than the person (DESIGN.md §7)."""

from __future__ import annotations

from django.db.models import QuerySet

from phr.models import Person, Proxy, RecordAccess, ShareLink, User
from phr.models.access_log import AccessRoute


def record_access(
    *,
    person: Person,
    actor: User | None,
    route: str,
    page: str,
    subject: str = "",
    proxy: Proxy | None = None,
    share_link: ShareLink | None = None,
    reason: str = "",
) -> RecordAccess:
    """Log one read; ``subject`` names what was opened (a test key, a resource id), never its content.

    A share-link read has no signed-in actor: it is labelled with the name the person gave the link."""
    if route not in AccessRoute.values:
        raise ValueError(f"unknown access route: {route}")
    return RecordAccess.objects.create(
        person=person,
        actor=actor,
        actor_label=(actor.email if actor is not None else share_link.label if share_link is not None else "")[:255],
        route=route,
        proxy=proxy,
        share_link=share_link,
        page=page[:64],
        subject=subject[:64],
        reason=reason[:500],
    )


def accesses_of(person: Person, *, limit: int = 200) -> QuerySet[RecordAccess]:
    return RecordAccess.objects.filter(person=person).order_by("-at")[:limit]
