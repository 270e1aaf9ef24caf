"""The staff area: reachable only by members of an organisation whose session passed MFA."""

from __future__ import annotations

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from phr import selectors, services
from phr.errors import PartyError
from phr.models import User
from phr.models.parties import Role
from portal.http import AuthenticatedRequest
from portal.staff_forms import GrantProxyForm


def _require_staff(request: AuthenticatedRequest) -> None:
    if not selectors.is_staff_user(request.user):
        raise PermissionDenied


def _has_role(user: User, role: str) -> bool:
    return user.memberships.filter(role=role).exists()


@login_required
def staff_home(request: AuthenticatedRequest) -> HttpResponse:
    _require_staff(request)
    memberships = list(selectors.memberships_of(request.user))
    return render(
        request,
        "portal/staff/home.html",
        {
            "memberships": memberships,
            "is_operator_admin": any(m.role == Role.OPERATOR_ADMIN for m in memberships),
            "has_break_glass": any(m.role == Role.BREAK_GLASS and m.organisation.is_operator for m in memberships),
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
    _require_staff(request)
    if not _has_role(request.user, Role.OPERATOR_ADMIN):
        raise PermissionDenied
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
