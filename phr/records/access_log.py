"""Recording and listing reads of a person's record by anyone other than the person (DESIGN.md §7)."""

from __future__ import annotations

from itertools import groupby

from django.core.paginator import Page, Paginator

from phr.hashchain import append, verify_chain
from phr.models import BreakGlassGrant, ChainHead, Person, Proxy, RecordAccess, ShareLink, User
from phr.models.access_log import ACCESS_CHAIN_PREFIX, AccessRoute
from phr.models.hashchain import ChainedRow

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
    """Log one read, chained after the person's previous one; ``subject`` names what was opened (a test key,
    a resource id), never its content. A break-glass read carries the grant's reason.

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
    return append(row)


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
    accesses = RecordAccess.objects.filter(person=person).select_related("proxy").order_by("-at", "-position")
    return Paginator(accesses, ACCESSES_PER_PAGE).get_page(number)


def _describe(row: ChainedRow) -> str:
    assert isinstance(row, RecordAccess)
    return f"record access {row.id} (person {row.person_id}, position {row.position})"


def verify_access_log() -> list[str]:
    """Every break in any person's access-log chain (changed, inserted or deleted rows); empty when intact."""
    prefix = ACCESS_CHAIN_PREFIX
    heads = {head.chain: head for head in ChainHead.objects.filter(chain__startswith=prefix)}
    problems: list[str] = []
    rows = RecordAccess.objects.order_by("person_id", "position").iterator(chunk_size=5000)
    for person_id, chain_rows in groupby(rows, key=lambda row: row.person_id):
        chain = f"{prefix}{person_id}"
        problems += verify_chain(chain, chain_rows, heads.pop(chain, None), _describe)
    for chain, head in heads.items():
        problems += verify_chain(chain, [], head, _describe)
    return problems
