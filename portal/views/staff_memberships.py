"""Staff roles of an organisation, for whoever the role policy lets manage them: list, give, take away.

An organisation administrator manages their own organisation's roles; the operator's administrators every
organisation's. The operator's own roles and emergency access are not given here (``manage.py grant_role``):
the service refuses them, and the form does not offer them. Changes ask for the password again.
"""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import reauthentication_required
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from phr import roles, services
from phr.models import Membership, Organisation, User
from phr.models.parties import Role
from phr.roles import Action
from portal.http import AuthenticatedRequest

# The roles a web page may give: those whose reach is the organisation itself.
GIVEN_HERE = [(role.value, role.label) for role in Role if role not in roles.PRIVILEGED_ROLES]


class MembershipForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Email of the user's account"))
    organisation = forms.ModelChoiceField(
        label=gettext_lazy("Organisation"), queryset=Organisation.objects.none(), empty_label=None
    )
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=GIVEN_HERE)

    def __init__(self, *args: Any, organisations: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations.filter(is_operator=False)  # type: ignore[attr-defined]

    def clean_email(self) -> User:
        user = User.objects.filter(email=self.cleaned_data["email"].strip().lower(), is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("No account has this email address."))
        return user


def _manageable(request: AuthenticatedRequest) -> QuerySet[Organisation]:
    organisations = roles.restrict(Organisation.objects.all(), request.user, Action.MANAGE_MEMBERSHIPS)
    if not organisations.exists():
        raise roles.NotAllowed
    return organisations


def _page(request: AuthenticatedRequest, form: MembershipForm, organisations: QuerySet[Organisation]) -> HttpResponse:
    rows = (
        Membership.objects.filter(organisation__in=organisations)
        .select_related("user", "organisation")
        .order_by("organisation__name", "role", "user__email")
    )
    return render(
        request,
        "portal/staff/memberships.html",
        {"form": form, "rows": rows, "privileged": [role.value for role in roles.PRIVILEGED_ROLES]},
    )


@login_required
def membership_list(request: AuthenticatedRequest) -> HttpResponse:
    organisations = _manageable(request)
    return _page(request, MembershipForm(organisations=organisations), organisations)


@login_required
@require_POST
@reauthentication_required
def membership_add(request: AuthenticatedRequest) -> HttpResponse:
    organisations = _manageable(request)
    form = MembershipForm(request.POST, organisations=organisations)
    if not form.is_valid():
        return _page(request, form, organisations)
    data = form.cleaned_data
    try:
        services.add_membership(
            user=data["email"], organisation=data["organisation"], role=data["role"], actor=request.user
        )
    except (roles.NotAllowed, ValueError) as exc:
        form.add_error(None, str(exc))
        return _page(request, form, organisations)
    messages.success(request, _("The role was given."))
    return redirect("portal:staff_memberships")


@login_required
@require_POST
@reauthentication_required
def membership_remove(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Take a role away; a role outside the organisations the user manages is a 404."""
    organisations = _manageable(request)
    membership = (
        Membership.objects.select_related("user", "organisation").filter(pk=pk, organisation__in=organisations).first()
    )
    if membership is None:
        raise Http404
    try:
        services.remove_membership(membership=membership, actor=request.user)
    except roles.NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The role was taken away."))
    return redirect("portal:staff_memberships")
