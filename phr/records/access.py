"""Fetch-and-authorise for records in: who may upload for a person, see a run, delete records.

- Upload and see uploads: the person, a proxy of theirs (any scope), or operator staff (an operator
  administrator of the organisation that runs Mamori) acting for the person; staff acts are audited.
- Delete: the person only. Deleting a record is theirs to decide, not a proxy's or the operator's.
"""

from __future__ import annotations

from django.http import Http404

from phr.access import own_person, person_for_user
from phr.ids import uuid_or_404
from phr.models import Membership, Person, SyncRun, User
from phr.models.parties import Role


def is_operator_staff(user: User) -> bool:
    return Membership.objects.filter(user=user, role=Role.OPERATOR_ADMIN, organisation__is_operator=True).exists()


def person_for_upload(user: User, person_id: object | None = None) -> Person:
    """The person ``user`` may upload records for; 404 for anyone else."""
    if not user.is_authenticated:
        raise Http404
    if person_id is not None and is_operator_staff(user):
        person = Person.objects.filter(pk=uuid_or_404(person_id)).first()
        if person is None:
            raise Http404
        return person
    return person_for_user(user, person_id)


def upload_run_for_user(user: User, run_id: object) -> SyncRun:
    """An upload run the user may see: one for a person they may upload for."""
    run = SyncRun.objects.select_related("person").filter(pk=uuid_or_404(run_id)).first()
    if run is None:
        raise Http404
    person_for_upload(user, run.person_id)
    return run


def person_for_deletion(user: User) -> Person:
    person = own_person(user)
    if person is None:
        raise Http404
    return person
