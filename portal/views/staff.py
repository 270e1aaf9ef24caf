"""The staff area: reachable only by members of an organisation whose session passed MFA."""

from __future__ import annotations

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from phr import roles, selectors, services
from phr.errors import PartyError
from phr.roles import Action
from phr.tlog.status import log_statuses
from portal.http import AuthenticatedRequest
from portal.staff_forms import GrantProxyForm

# The powers whose pages the staff home links to (each link shown only to those the policy allows).
SHOWN_ACTIONS = (
    Action.MANAGE_API_CLIENTS,
    Action.MANAGE_MEMBERSHIPS,
    Action.BREAK_GLASS,
    Action.MANAGE_REGIMES,
    Action.MANAGE_ENDPOINTS,
    Action.LINK_PATIENT,
    Action.GRANT_PROXY,
    Action.REVIEW_BREAK_GLASS,
)


@login_required
def staff_home(request: AuthenticatedRequest) -> HttpResponse:
    roles.require(request.user, Action.VIEW_STAFF_AREA)
    memberships = list(selectors.memberships_of(request.user))
    return render(
        request,
        "portal/staff/home.html",
        {
            "memberships": memberships,
            "may": {action.name: roles.can_somewhere(request.user, action) for action in SHOWN_ACTIONS},
            "log_statuses": log_statuses() if roles.can(request.user, Action.VIEW_LOG_STATUS) else None,
        },
    )


@login_required
def staff_mfa_required(request: AuthenticatedRequest) -> HttpResponse:
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    return render(
        request,
        "portal/staff/mfa_required.html",
        {"mfa_enabled": is_mfa_enabled(request.user), "next": next_url},
    )


@login_required
def grant_proxy(request: AuthenticatedRequest) -> HttpResponse:
    """An operator administrator records a proxy after checking its evidence (paper or counter)."""
    roles.require(request.user, Action.GRANT_PROXY)
    form = GrantProxyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.grant_proxy(actor=request.user, **form.grant_arguments())
        except PartyError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The proxy was recorded."))
            return redirect("portal:staff_home")
    return render(request, "portal/staff/grant_proxy.html", {"form": form})
