"""Background jobs held under a lease: one worker at a time, and a job whose worker died is taken again.

A job model using this has ``status``, ``lease_until`` and ``attempts`` fields. Claiming is one conditional
UPDATE, so two workers racing for the same job cannot both win.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F, Model, Q
from django.utils import timezone


def take_lease(model: type[Model], pk: object, *, queued: str, running: str, lease: timedelta) -> bool:
    """Take the job ``pk`` if it is queued, or running under a lapsed lease; False when someone holds it or it
    has ended. The attempt is counted, so a job that keeps killing its workers can be failed."""
    now = timezone.now()
    taken = (
        model._default_manager.filter(pk=pk)
        .filter(Q(status=queued) | Q(status=running, lease_until__lt=now))
        .update(status=running, lease_until=now + lease, attempts=F("attempts") + 1)
    )
    return bool(taken)


def stalled_ids(model: type[Model], *, queued: str, running: str, lease: timedelta) -> list[str]:
    """Jobs to queue again: running under a lapsed lease (the worker died), or queued for longer than a lease
    (the queue message was lost). Their ids as text, for the task that re-queues them."""
    now = timezone.now()
    stalled = model._default_manager.filter(
        Q(status=running, lease_until__lt=now) | Q(status=queued, created_at__lt=now - lease)
    ).values_list("pk", flat=True)
    return [str(pk) for pk in stalled]
