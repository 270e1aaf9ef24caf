"""Fetch-and-authorise for records in: who may upload for a person, see a run, delete records.

- Upload: the person, a proxy of theirs who may manage (a view-only proxy reads, never writes), or staff the
  role policy lets act for a person (``Action.ACT_FOR_PERSON``); staff acts are audited.
- See an upload run: whoever may upload, and a view-only proxy too (reading what was imported).
- Delete: the person only. Deleting a record is theirs to decide, not a proxy's or the operator's.
"""

from __future__ import annotations

from django.http import Http404

from phr import roles
from phr.access import own_person, person_for_user
from phr.ids import uuid_or_404
from phr.models import Person, SyncRun, User
from phr.models.parties import ProxyScope
from phr.roles import Action


def _person_acted_for(user: User, person_id: object | None) -> Person | None:
    """The person at ``person_id`` when ``user`` is staff allowed to act for persons; None otherwise."""
    if person_id is None or not roles.can(user, Action.ACT_FOR_PERSON):
        return None
    person = Person.objects.filter(pk=uuid_or_404(person_id)).first()
    if person is None:
        raise Http404
    return person


def person_for_upload(user: User, person_id: object | None = None) -> Person:
    """The person ``user`` may upload records for; 404 for anyone else, a view-only proxy included."""
    if not user.is_authenticated:
        raise Http404
    return _person_acted_for(user, person_id) or person_for_user(user, person_id, scope=ProxyScope.MANAGE_CONSENT)


def upload_run_for_user(user: User, run_id: object) -> SyncRun:
    """An upload run the user may see: one for a person they may upload for, or read as a proxy."""
    if not user.is_authenticated:
        raise Http404
    run = SyncRun.objects.select_related("person").filter(pk=uuid_or_404(run_id)).first()
    if run is None:
        raise Http404
    if _person_acted_for(user, run.person_id) is None:
        person_for_user(user, run.person_id, scope=ProxyScope.VIEW)
    return run


def person_for_deletion(user: User) -> Person:
    person = own_person(user)
    if person is None:
        raise Http404
    return person
