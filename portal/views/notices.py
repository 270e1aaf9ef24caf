"""The person's notices: marking one as read (they are shown on the person's own page)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from phr import notices
from portal.http import AuthenticatedRequest


@require_POST
@login_required
def mark_notice_read(request: AuthenticatedRequest, notice_id: str) -> HttpResponse:
    notice = notices.own_notice(request.user, notice_id)
    if notice is None:
        raise Http404
    notices.mark_read(notice)
    return redirect("portal:dashboard")
