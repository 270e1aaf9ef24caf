"""Fetch-and-authorise: the only way a request's id becomes a Person or a Proxy.

Anything not allowed answers 404, so an id never tells a caller whether a person exists.
"""

from __future__ import annotations

import uuid

from django.http import Http404

from phr.models import Person, Proxy, User
from phr.models.parties import ProxyScope


def _uuid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404 from None


def own_person(user: User) -> Person | None:
    if not user.is_authenticated:
        return None
    return Person.objects.filter(user=user).first()


def person_for_user(user: User, person_id: object | None = None, *, scope: str = ProxyScope.VIEW) -> Person:
    """The person ``user`` may act for within ``scope``: themselves, or through an active proxy."""
    if not user.is_authenticated:
        raise Http404
    own = own_person(user)
    if person_id is None or (own is not None and own.pk == _uuid(person_id)):
        if own is None:
            raise Http404
        return own
    proxy = active_proxy_for(user, person_id)
    if proxy is None or not proxy.allows(scope):
        raise Http404
    return proxy.person


def active_proxy_for(user: User, person_id: object) -> Proxy | None:
    return Proxy.objects.active().select_related("person").filter(proxy_user=user, person_id=_uuid(person_id)).first()


def proxy_granted_by(user: User, proxy_id: object) -> Proxy:
    """A proxy on the user's own record, for the person to see or revoke."""
    own = own_person(user)
    if own is None:
        raise Http404
    proxy = Proxy.objects.select_related("proxy_user").filter(pk=_uuid(proxy_id), person=own).first()
    if proxy is None:
        raise Http404
    return proxy
