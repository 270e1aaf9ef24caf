"""A consent receipt for the person (or their proxy): a readable page and the signed JSON to keep."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from consent.access import receipt_for_user
from consent.receipts.readable import channel_label, readable_changes
from consent.receipts.signing import receipt_document
from portal.http import AuthenticatedRequest


@login_required
def receipt_detail(request: AuthenticatedRequest, receipt_id: str) -> HttpResponse:
    receipt = receipt_for_user(request.user, receipt_id)
    payload = receipt.payload
    return render(
        request,
        "portal/receipts/detail.html",
        {
            "receipt": receipt,
            "event": receipt.event,
            "payload": payload,
            "changes": readable_changes(payload),
            "channel": channel_label(receipt.event.channel),
            "is_own": receipt.event.person.user_id == request.user.pk,
        },
    )


@login_required
def receipt_download(request: AuthenticatedRequest, receipt_id: str) -> HttpResponse:
    receipt = receipt_for_user(request.user, receipt_id)
    document = receipt_document(receipt.payload, receipt.key_id, receipt.signature)
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="mamori-receipt-{receipt.pk}.json"'
    response["Cache-Control"] = "no-store"
    return response
