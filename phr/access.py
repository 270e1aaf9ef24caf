"""Fetch-and-authorise: the only way a request's id becomes a Person or a Proxy.

Anything not allowed answers 404, so an id never tells a caller whether a person exists.

A person's record pages are read by the person, by a proxy with the view scope, or by operator staff
holding an active break-glass grant for that person (in a session that passed MFA): ``record_reader_for``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import Http404
from django.utils import timezone

from phr import roles
from phr.ids import uuid_or_404
from phr.models import BreakGlassGrant, Person, Proxy, User
from phr.models.parties import ProxyScope
from phr.roles import Action


def own_person(user: User) -> Person | None:
    if not user.is_authenticated:
        return None
    return Person.objects.filter(user=user).first()


def _own_if_named(user: User, person_id: object | None) -> Person | None:
    """The user's own person when ``person_id`` names it (or is None); None when it names someone else.
    404 for an anonymous user, or for one with no person of their own asking for "their own"."""
    if not user.is_authenticated:
        raise Http404
    own = own_person(user)
    if person_id is None or (own is not None and own.pk == uuid_or_404(person_id)):
        if own is None:
            raise Http404
        return own
    return None


def person_for_user(user: User, person_id: object | None = None, *, scope: str = ProxyScope.VIEW) -> Person:
    """The person ``user`` may act for within ``scope``: themselves, or through an active proxy."""
    own = _own_if_named(user, person_id)
    if own is not None:
        return own
    proxy = active_proxy_for(user, person_id)
    if proxy is None or not proxy.allows(scope):
        raise Http404
    return proxy.person


def active_proxy_for(user: User, person_id: object) -> Proxy | None:
    return (
        Proxy.objects.active()
        .select_related("person")
        .filter(proxy_user=user, person_id=uuid_or_404(person_id))
        .first()
    )


def proxy_granted_by(user: User, proxy_id: object) -> Proxy:
    """A proxy on the user's own record, for the person to see or revoke."""
    own = own_person(user)
    if own is None:
        raise Http404
    proxy = Proxy.objects.select_related("proxy_user").filter(pk=uuid_or_404(proxy_id), person=own).first()
    if proxy is None:
        raise Http404
    return proxy


@dataclass(frozen=True)
class RecordReader:
    """Whose record is open and by what right: the person's own, a proxy's, or a break-glass grant's."""

    person: Person
    is_own: bool
    proxy: Proxy | None = None
    grant: BreakGlassGrant | None = None


def active_break_glass_for(user: User, person_id: object) -> BreakGlassGrant | None:
    """The user's unexpired grant for this person, while they still hold the emergency-access role."""
    if not roles.can(user, Action.BREAK_GLASS):
        return None
    now = timezone.now()
    return (
        BreakGlassGrant.objects.select_related("person")
        .filter(staff=user, person_id=uuid_or_404(person_id), opened_at__lte=now, expires_at__gt=now)
        .order_by("-expires_at")
        .first()
    )


def record_reader_for(user: User, person_id: object | None, *, mfa_passed: Callable[[], bool]) -> RecordReader:
    """Who may read the records at ``person_id`` (None: the user's own); 404 for everyone else.

    A proxy needs the view scope; a break-glass grant counts only in a session that passed MFA, since the
    records pages lie outside the staff area the MFA middleware guards."""
    own = _own_if_named(user, person_id)
    if own is not None:
        return RecordReader(person=own, is_own=True)
    proxy = active_proxy_for(user, person_id)
    if proxy is not None and proxy.allows(ProxyScope.VIEW):
        return RecordReader(person=proxy.person, is_own=False, proxy=proxy)
    grant = active_break_glass_for(user, person_id)
    if grant is None or not mfa_passed():
        raise Http404
    return RecordReader(person=grant.person, is_own=False, grant=grant)
