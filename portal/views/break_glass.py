"""Break-glass in the staff area: open an emergency access after stating a reason; administrators review them.

Only holders of the emergency-access role reach the first page, only operator administrators the review;
everyone else gets 403 and nothing is opened or logged as read.
"""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from phr import break_glass, roles
from phr.roles import Action
from portal.break_glass_forms import OpenBreakGlassForm, ReviewBreakGlassForm
from portal.http import AuthenticatedRequest

GRANTS_PER_PAGE = 25


def _open_page(request: AuthenticatedRequest, form: OpenBreakGlassForm) -> HttpResponse:
    response = render(
        request,
        "portal/staff/break_glass.html",
        {
            "form": form,
            "grants": list(break_glass.grants_opened_by(request.user).select_related("person")),
            "now": timezone.now(),
            "minutes": break_glass.GRANT_MINUTES,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
def open_break_glass(request: AuthenticatedRequest) -> HttpResponse:
    """State a reason and open a person's record for a limited time (password asked again first)."""
    roles.require(request.user, Action.BREAK_GLASS)
    form = OpenBreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return _open(request, form=form)
    return _open_page(request, form)


@reauthentication_required
def _open(request: AuthenticatedRequest, *, form: OpenBreakGlassForm) -> HttpResponse:
    data = form.cleaned_data
    try:
        found = break_glass.find_person(
            staff=request.user, system=data["identifier_system"], value=data["identifier_value"]
        )
        if found is None:
            form.add_error("identifier_value", _("No person has this identifier in this system."))
            return _open_page(request, form)
        grant = break_glass.open_grant(
            staff=request.user, found=found, reason_category=data["reason_category"], reason=data["reason"]
        )
    except break_glass.BreakGlassRefused as exc:
        form.add_error(None, str(exc))
        return _open_page(request, form)
    messages.warning(
        request,
        _("Emergency access is open for %(minutes)d minutes. Every page you read is recorded with your reason.")
        % {"minutes": break_glass.GRANT_MINUTES},
    )
    return redirect("portal:records_home_for", grant.person_id)


@require_GET
@login_required
def review_list(request: AuthenticatedRequest) -> HttpResponse:
    """Every emergency access, awaiting review first: who, whom (masked), when, why, and the pages read."""
    roles.require(request.user, Action.REVIEW_BREAK_GLASS)
    reviewed = request.GET.get("show") == "reviewed"
    page = Paginator(break_glass.grants_for_review(reviewed=reviewed), GRANTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "portal/staff/break_glass_review.html",
        {"page": page, "reviewed": reviewed, "form": ReviewBreakGlassForm(), "now": timezone.now()},
    )


@require_POST
@login_required
def review_grant(request: AuthenticatedRequest, grant_id: str) -> HttpResponse:
    roles.require(request.user, Action.REVIEW_BREAK_GLASS)
    grant = break_glass.grant_for_review(grant_id)
    if grant is None:
        raise Http404
    form = ReviewBreakGlassForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write a review note (up to 1000 characters) before marking it reviewed."))
        return redirect("portal:staff_break_glass_review")
    try:
        break_glass.review_grant(grant=grant, reviewer=request.user, note=form.cleaned_data["note"])
    except break_glass.BreakGlassRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The emergency access was marked as reviewed."))
    return redirect("portal:staff_break_glass_review")
