"""Forms of the staff area."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from phr.models import Organisation, User
from phr.models.parties import LegalBasis, ProxyScope
from phr.selectors import person_by_identifier


def identifier_system_choices() -> list[tuple[str, str]]:
    """The identifier systems staff may look a person up by: the national linkage id, then each
    organisation's patient numbers, by name."""
    systems: list[tuple[str, str]] = [(settings.MAMORI_LINKAGE_SYSTEM, str(_("National linkage id")))]
    systems += [
        (org.patient_number_system, org.name)
        for org in Organisation.objects.exclude(patient_number_system=None).order_by("name")
        if org.patient_number_system
    ]
    return systems


class GrantProxyForm(forms.Form):
    identifier_system = forms.ChoiceField(label=_("Identifier system"))
    identifier_value = forms.CharField(label=_("Identifier of the person"), max_length=64)
    proxy_email = forms.EmailField(label=_("Email of the proxy's account"))
    scope = forms.ChoiceField(label=_("Scope"), choices=ProxyScope.choices)
    legal_basis = forms.ChoiceField(label=_("Legal basis"), choices=LegalBasis.choices)
    evidence = forms.CharField(label=_("Evidence checked"), widget=forms.Textarea(attrs={"rows": 3}))
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["identifier_system"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = identifier_system_choices()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        person = person_by_identifier(data["identifier_system"], data["identifier_value"])
        if person is None:
            raise forms.ValidationError(_("No person has this identifier."))
        proxy_user = User.objects.filter(email__iexact=data["proxy_email"]).first()
        if proxy_user is None:
            raise forms.ValidationError(_("No account has this email address."))
        data["person"], data["proxy_user"] = person, proxy_user
        return data

    def grant_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        until = data.get("valid_until")
        return {
            "person": data["person"],
            "proxy_user": data["proxy_user"],
            "scope": data["scope"],
            "legal_basis": data["legal_basis"],
            "evidence": data["evidence"],
            "valid_until": timezone.make_aware(datetime.combine(until, time.min)) if until else None,
        }
