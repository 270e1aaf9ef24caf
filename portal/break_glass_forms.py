"""Forms of break-glass (emergency access): opening a grant, and an administrator's review of one."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from phr.models.break_glass import REASON_MIN_LENGTH, ReasonCategory
from portal.staff_forms import identifier_system_choices


class OpenBreakGlassForm(forms.Form):
    identifier_system = forms.ChoiceField(label=_("Identifier system"))
    identifier_value = forms.CharField(label=_("Identifier of the person"), max_length=64)
    reason_category = forms.ChoiceField(
        label=_("Reason category"), choices=[("", _("Choose one")), *ReasonCategory.choices]
    )
    reason = forms.CharField(
        label=_("Reason"),
        min_length=REASON_MIN_LENGTH,
        max_length=500,
        help_text=_("What happened and why the record is needed now. The person and the administrators read this."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    confirm = forms.BooleanField(
        label=_(
            "I understand that this access is recorded, the person is told at once, and an administrator reviews it."
        )
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["identifier_system"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = identifier_system_choices()


class ReviewBreakGlassForm(forms.Form):
    note = forms.CharField(
        label=_("Review note"),
        max_length=1000,
        help_text=_("Was the access justified? What was checked?"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
