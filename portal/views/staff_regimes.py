"""Regimes for operator administrators: every version, and a new version that takes effect later."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consent import selectors, services
from consent.errors import ConsentError
from consent.models import Basis, PurposeClass
from phr import roles
from phr.categories import Tier
from phr.roles import Action
from portal.http import AuthenticatedRequest


class RegimeVersionForm(forms.Form):
    purpose_class = forms.ChoiceField(label=gettext_lazy("Purpose class"), choices=PurposeClass.choices)
    tier = forms.TypedChoiceField(label=gettext_lazy("Tier"), choices=Tier.choices, coerce=int)
    basis = forms.ChoiceField(label=gettext_lazy("Basis"), choices=Basis.choices)
    objection_window_days = forms.IntegerField(
        label=gettext_lazy("Objection window (days)"),
        min_value=0,
        max_value=3650,
        initial=30,
        required=False,
        help_text=gettext_lazy("Opt-out only: days between the notice and the first use."),
    )
    notice_by_publication = forms.BooleanField(
        label=gettext_lazy("The regime's public notice is the notice"), required=False
    )
    notice_must_state_commercial_use = forms.BooleanField(
        label=gettext_lazy("Notices must state the commercial use"), required=False
    )
    notice_requirements = forms.CharField(
        label=gettext_lazy("Notice requirements"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    effective_from = forms.DateTimeField(
        label=gettext_lazy("Takes effect at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=gettext_lazy("Japan time. It must be in the future; versions in force are never edited."),
    )

    def version_arguments(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if data["basis"] != Basis.OPT_OUT:
            data["objection_window_days"] = 0
        data["objection_window_days"] = data["objection_window_days"] or 0
        return data


@login_required
def regime_list(request: AuthenticatedRequest) -> HttpResponse:
    roles.require(request.user, Action.MANAGE_REGIMES)
    now = timezone.now()
    versions = list(selectors.regime_versions())
    return render(
        request,
        "portal/staff/regimes/list.html",
        {
            "versions": versions,
            "in_force": {
                r.pk for r in versions if r.effective_from <= now and (r.effective_to is None or r.effective_to > now)
            },
            "now": now,
        },
    )


@login_required
def regime_new_version(request: AuthenticatedRequest) -> HttpResponse:
    roles.require(request.user, Action.MANAGE_REGIMES)
    form = RegimeVersionForm(request.POST or None, initial=request.GET.dict() or None)
    if request.method == "POST" and form.is_valid():
        try:
            regime = services.create_regime_version(actor=request.user, **form.version_arguments())
        except ConsentError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Version %(version)s of the regime takes effect on %(date)s.")
                % {
                    "version": regime.version,
                    "date": timezone.localtime(regime.effective_from).strftime("%Y-%m-%d %H:%M"),
                },
            )
            return redirect("portal:staff_regimes")
    return render(request, "portal/staff/regimes/new.html", {"form": form})
