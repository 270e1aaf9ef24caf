"""Recording and listing reads of a person's record by anyone other than the person (DESIGN.md §7)."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db import transaction

from phr.models import BreakGlassGrant, Person, Proxy, RecordAccess, ShareLink, User
from phr.models.access_log import AccessRoute
from phr.models.tlog import LogName
from phr.tlog.store import sequence

ACCESSES_PER_PAGE = 50


def record_access(
    *,
    person: Person,
    actor: User | None,
    route: str,
    page: str,
    subject: str = "",
    proxy: Proxy | None = None,
    share_link: ShareLink | None = None,
    break_glass: BreakGlassGrant | None = None,
    reason: str = "",
) -> RecordAccess:
    """Log one read and queue its entry in the ``access`` log (phr.tlog), in one transaction; ``subject``
    names what was opened (a test key, a resource id), never its content. A break-glass read carries the
    grant's reason.

    A share-link read has no signed-in actor: it is labelled with the name the person gave the link."""
    if route not in AccessRoute.values:
        raise ValueError(f"unknown access route: {route}")
    if break_glass is not None:
        reason = reason or f"{break_glass.get_reason_category_display()}: {break_glass.reason}"
    row = RecordAccess(
        person=person,
        actor=actor,
        actor_label=(actor.email if actor is not None else share_link.label if share_link is not None else "")[:255],
        route=route,
        proxy=proxy,
        share_link=share_link,
        break_glass=break_glass,
        page=page[:64],
        subject=subject[:64],
        reason=reason[:500],
    )
    with transaction.atomic():
        row.log_entry_id = sequence(LogName.ACCESS, row.log_body())
        row.save(force_insert=True)
    return row


def record_staff_read(*, person: Person, actor: User, page: str, subject: str = "") -> RecordAccess | None:
    """Log a read of ``person``'s upload pages by someone else: one of their proxies (route proxy) or operator
    staff acting for them (route staff). The person's own reads are not logged."""
    from phr.access import active_proxy_for

    if person.user_id == actor.pk:
        return None
    proxy = active_proxy_for(actor, person.pk)
    if proxy is not None:
        return record_access(
            person=person, actor=actor, route=AccessRoute.PROXY, proxy=proxy, page=page, subject=subject
        )
    return record_access(person=person, actor=actor, route=AccessRoute.STAFF, page=page, subject=subject)


def accesses_page(person: Person, number: int) -> Page[RecordAccess]:
    """One page of the person's access log, newest first (the last page if ``number`` is past the end)."""
    accesses = RecordAccess.objects.filter(person=person).select_related("proxy").order_by("-at", "-log_entry_id")
    return Paginator(accesses, ACCESSES_PER_PAGE).get_page(number)
