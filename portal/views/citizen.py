"""The citizen's own pages: dashboard, profile, proxies they granted or hold."""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consent.selectors import decision_checks_of
from phr import roles, selectors, services
from phr.access import active_proxy_for, own_person, proxy_granted_by
from phr.models import Person, Proxy
from portal.forms import ProfileForm, ProfileSetupForm
from portal.http import AuthenticatedRequest


def _dashboard_context(request: AuthenticatedRequest, person: Person) -> dict[str, object]:
    return {
        "person": person,
        "identifiers": selectors.identifiers_of(person),
        "proxies_granted": list(selectors.proxies_granted(person)),
        "audit_events": list(selectors.recent_audit_events(person)),
        "decision_checks": decision_checks_of(person),
        # For the template: a proxy's status (expired or not yet started) and the linkage id's label.
        "now": timezone.now(),
        "linkage_system": settings.MAMORI_LINKAGE_SYSTEM,
    }


@login_required
def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    person = own_person(request.user)
    acting_for = list(selectors.proxies_acting_for(request.user))
    if person is None and not acting_for:
        if roles.is_staff(request.user):
            return redirect("portal:staff_home")
        return redirect("portal:profile_setup")
    context: dict[str, object] = {
        "acting_for": acting_for,
        "mfa_enabled": is_mfa_enabled(request.user),
        "is_own": True,
    }
    if person is not None:
        context.update(_dashboard_context(request, person))
    return render(request, "portal/dashboard.html", context)


@login_required
def dependent_dashboard(request: AuthenticatedRequest, person_id: str) -> HttpResponse:
    """A proxy's view of a dependent's dashboard, under a "viewing for" banner; every view is logged."""
    proxy = active_proxy_for(request.user, person_id)
    if proxy is None:
        raise Http404
    person = proxy.person
    services.record_audit(actor=request.user, person=person, action="proxy.viewed", proxy=str(proxy.id))
    context = _dashboard_context(request, person)
    context.update({"acting_for": list(selectors.proxies_acting_for(request.user)), "is_own": False, "proxy": proxy})
    return render(request, "portal/dashboard.html", context)


@login_required
def profile_setup(request: AuthenticatedRequest) -> HttpResponse:
    if own_person(request.user) is not None:
        return redirect("portal:dashboard")
    form = ProfileSetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.create_person(user=request.user, actor=request.user, **form.person_fields())
        messages.success(request, _("Your profile is set up."))
        return redirect("portal:dashboard")
    return render(request, "portal/profile_setup.html", {"form": form})


@login_required
def profile_edit(request: AuthenticatedRequest) -> HttpResponse:
    person = own_person(request.user)
    if person is None:
        return redirect("portal:profile_setup")
    form = ProfileForm(
        request.POST or None,
        initial={"preferred_language": person.preferred_language, "prefecture": person.prefecture},
    )
    if request.method == "POST" and form.is_valid():
        services.update_profile(person=person, actor=request.user, **form.cleaned_data)
        messages.success(request, _("Your profile was saved."))
        return redirect("portal:dashboard")
    return render(request, "portal/profile_edit.html", {"form": form, "person": person})


@require_POST
@login_required
def revoke_proxy(request: AuthenticatedRequest, proxy_id: str) -> HttpResponse:
    # Authorise before asking for the password again, so a stranger learns nothing but "not found".
    return _revoke_proxy(request, proxy=proxy_granted_by(request.user, proxy_id))


@reauthentication_required
def _revoke_proxy(request: AuthenticatedRequest, *, proxy: Proxy) -> HttpResponse:
    services.revoke_proxy(proxy=proxy, actor=request.user)
    messages.success(request, _("%(name)s can no longer act for you.") % {"name": proxy.proxy_user.email})
    return redirect("portal:dashboard")
