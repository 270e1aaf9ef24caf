"""Fetch-and-authorise for consent objects: the only way a request's id becomes a receipt or regime."""

from __future__ import annotations

from django.http import Http404

from consent.models import Receipt
from phr.access import person_for_user
from phr.ids import uuid_or_404
from phr.models import User
from phr.services import record_audit


def receipt_for_user(user: User, receipt_id: object) -> Receipt:
    """A receipt of the user's own consent, or of a person they are an active proxy for; else 404.

    A proxy's view is audited, so the person sees it.
    """
    key = uuid_or_404(receipt_id)
    receipt = Receipt.objects.select_related("event", "event__person", "event__actor").filter(pk=key).first()
    if receipt is None:
        raise Http404
    person = person_for_user(user, receipt.event.person_id)
    if person.user_id != user.pk:
        record_audit(actor=user, person=person, action="consent.receipt_viewed_by_proxy", receipt=str(receipt.pk))
    return receipt
