"""Forms of the portal. Sign-up collects what a Person needs; every field is labelled."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from phr.models import User
from phr.models.parties import Language
from phr.prefectures import PREFECTURE_CHOICES
from phr.services import create_person


class DateInput(forms.DateInput):
    input_type = "date"


def _validate_birth_date(value: date) -> None:
    today = timezone.localdate()
    if value > today:
        raise forms.ValidationError(_("The birth date cannot be in the future."))
    if value.year < today.year - 130:
        raise forms.ValidationError(_("Check the birth date."))


class PersonProfileFields(forms.Form):
    family_name = forms.CharField(label=_("Family name"), max_length=100)
    given_name = forms.CharField(label=_("Given name"), max_length=100)
    family_name_kana = forms.CharField(label=_("Family name (kana)"), max_length=100, required=False)
    given_name_kana = forms.CharField(label=_("Given name (kana)"), max_length=100, required=False)
    birth_date = forms.DateField(label=_("Birth date"), widget=DateInput, validators=[_validate_birth_date])
    prefecture = forms.ChoiceField(label=_("Prefecture"), choices=[("", "—"), *PREFECTURE_CHOICES], required=False)

    def person_fields(self) -> dict[str, Any]:
        own = set(PersonProfileFields.base_fields)
        data = {name: value for name, value in self.cleaned_data.items() if name in own}
        data["preferred_language"] = (
            Language.EN if (translation.get_language() or "ja").startswith("en") else Language.JA
        )
        return data


class SignupForm(PersonProfileFields):
    """allauth's sign-up form is extended with these fields (ACCOUNT_SIGNUP_FORM_CLASS)."""

    def signup(self, request: HttpRequest, user: User) -> None:
        create_person(user=user, actor=user, **self.person_fields())


class ProfileSetupForm(PersonProfileFields):
    """For an account that signed up without a person record (e.g. staff who are also citizens)."""


class ProfileForm(forms.Form):
    preferred_language = forms.ChoiceField(label=_("Preferred language"), choices=Language.choices)
    prefecture = forms.ChoiceField(label=_("Prefecture"), choices=[("", "—"), *PREFECTURE_CHOICES], required=False)
