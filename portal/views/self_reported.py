"""Self-reported data: the person enters their own weight, blood pressure or steps."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from phr.access import own_person
from phr.records.self_reported import BLOOD_PRESSURE, MEASURES, record_measurement
from portal.http import AuthenticatedRequest

# The earliest time a measurement may carry; year 1 in Japan time is year 0 in UTC, which FHIR cannot write.
EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.get_fixed_timezone(540))


class MeasurementForm(forms.Form):
    measure = forms.ChoiceField(
        label=gettext_lazy("What did you measure?"),
        choices=[(measure.key, measure.label) for measure in MEASURES.values()],
        widget=forms.RadioSelect,
    )
    measured_at = forms.DateTimeField(
        label=gettext_lazy("When"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    value = forms.DecimalField(
        label=gettext_lazy("Value"),
        help_text=gettext_lazy("Weight in kg, steps in a day, or the upper (systolic) blood pressure in mmHg."),
        min_value=Decimal("0"),
        max_value=Decimal("1000000"),
        max_digits=9,
        decimal_places=1,
    )
    second = forms.DecimalField(
        label=gettext_lazy("Lower (diastolic) blood pressure, mmHg"),
        help_text=gettext_lazy("Only for blood pressure."),
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("400"),
        max_digits=4,
        decimal_places=0,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        at = data.get("measured_at")
        if at is not None and at > timezone.now():
            self.add_error("measured_at", _("The time is in the future."))
        elif at is not None and at < EARLIEST:
            self.add_error("measured_at", _("The time is too far in the past."))
        if data.get("measure") == BLOOD_PRESSURE.key and data.get("second") is None:
            self.add_error("second", _("Enter the lower (diastolic) blood pressure too."))
        return data


@login_required
def self_report(request: AuthenticatedRequest) -> HttpResponse:
    person = own_person(request.user)
    if person is None:
        raise Http404
    form = MeasurementForm(
        request.POST or None, initial={"measure": "weight", "measured_at": timezone.localtime().replace(second=0)}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        record_measurement(
            person=person,
            actor=request.user,
            measure=MEASURES[data["measure"]],
            at=data["measured_at"],
            value=data["value"],
            second=data.get("second"),
        )
        messages.success(request, _("Saved. It is marked as self-reported wherever it is shown."))
        return redirect("portal:records_timeline")
    return render(request, "portal/records/self_report.html", {"form": form, "person": person})
