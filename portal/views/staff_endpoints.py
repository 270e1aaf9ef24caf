"""Hospitals' FHIR endpoints for operator administrators: list, create, edit, enter credentials.

Every write goes through ``phr.fhir.endpoints`` (authorised by the role policy, audited). A base URL the
outbound policy would refuse to fetch is an error in the form. A client secret or private key is entered
once and never shown again: the pages say only when it was set. Changing where an endpoint is, or its
credentials, asks for the password again (re-authentication).
"""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import reauthentication_required
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from phr import outbound
from phr.fhir import endpoints
from phr.fhir import selectors as fhir_selectors
from phr.models import FhirEndpoint, Organisation
from phr.models.fhir import AuthMode, ScopeStyle, SigningAlg
from portal.http import AuthenticatedRequest

BASE_URL_MESSAGES = {
    "scheme": gettext_lazy("The base URL must use https."),
    "host": gettext_lazy("The base URL has no host."),
    "credentials": gettext_lazy("The base URL must not carry a user name or password."),
    "port": gettext_lazy("The base URL has an invalid port."),
    "private": gettext_lazy(
        "The base URL points at a private, loopback or reserved address, which Mamori never fetches."
    ),
    "query": gettext_lazy("A base URL has no query or fragment."),
}


def base_url_message(code: str, fallback: str) -> str:
    return str(BASE_URL_MESSAGES.get(code, fallback))


class EndpointForm(forms.Form):
    organisation = forms.ModelChoiceField(label=gettext_lazy("Hospital"), queryset=Organisation.objects.none())
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    base_url = forms.CharField(
        label=gettext_lazy("Base URL"),
        max_length=500,
        help_text=gettext_lazy("The FHIR R4 base, https, e.g. https://fhir.hospital.example.jp/r4"),
    )
    auth_mode = forms.ChoiceField(label=gettext_lazy("Authorisation"), choices=AuthMode.choices)
    client_id = forms.CharField(label=gettext_lazy("Client id"), max_length=255, required=False)
    key_id = forms.CharField(label=gettext_lazy("Key id (kid)"), max_length=255, required=False)
    signing_alg = forms.ChoiceField(
        label=gettext_lazy("Signing algorithm"), choices=SigningAlg.choices, initial=SigningAlg.RS384
    )
    scope_style = forms.ChoiceField(
        label=gettext_lazy("Scope style"), choices=ScopeStyle.choices, initial=ScopeStyle.V2
    )

    def __init__(self, *args: Any, hospitals: QuerySet[Organisation] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if hospitals is None:
            # Editing: an endpoint stays with its hospital; a different hospital is a new endpoint.
            del self.fields["organisation"]
        else:
            self.fields["organisation"].queryset = hospitals  # type: ignore[attr-defined]

    def clean_base_url(self) -> str:
        try:
            return endpoints.checked_base_url(self.cleaned_data["base_url"])
        except endpoints.EndpointRefused as exc:
            raise forms.ValidationError(base_url_message(exc.code, str(exc))) from None


class NeverShownTextarea(forms.Textarea):
    """A text area that renders empty, also when the form comes back with errors: a key is never sent back."""

    def format_value(self, value: Any) -> str | None:
        return None


class CredentialsForm(forms.Form):
    client_secret = forms.CharField(
        label=gettext_lazy("Client secret"),
        required=False,
        max_length=endpoints.MAX_SECRET_LENGTH,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=gettext_lazy("Sent with HTTP Basic to the hospital's token endpoint."),
    )
    private_key = forms.CharField(
        label=gettext_lazy("Private key (PEM)"),
        required=False,
        max_length=endpoints.MAX_PRIVATE_KEY_LENGTH,
        widget=NeverShownTextarea(attrs={"rows": 8, "spellcheck": "false", "autocomplete": "off"}),
        help_text=gettext_lazy("Signs client assertions (RS384: an RSA key; ES384: a P-384 key), unencrypted PEM."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not data.get("client_secret") and not data.get("private_key"):
            raise forms.ValidationError(_("Enter a client secret or a private key."))
        return data


def _refused_into(form: forms.Form, exc: endpoints.EndpointRefused) -> None:
    field = exc.field if exc.field in form.fields else None
    message = base_url_message(exc.code, str(exc)) if field == "base_url" else str(exc)
    form.add_error(field, message)


@login_required
def endpoint_list(request: AuthenticatedRequest) -> HttpResponse:
    rows = list(fhir_selectors.endpoints_for_staff(request.user))
    return render(request, "portal/staff/endpoints/list.html", {"endpoints": rows})


@login_required
@never_cache
@reauthentication_required
def endpoint_new(request: AuthenticatedRequest) -> HttpResponse:
    fhir_selectors.endpoints_for_staff(request.user)
    form = EndpointForm(request.POST or None, hospitals=fhir_selectors.hospitals_for_endpoints(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            endpoint = endpoints.create_endpoint(
                actor=request.user,
                organisation=data["organisation"],
                name=data["name"],
                base_url=data["base_url"],
                auth_mode=data["auth_mode"],
                client_id=data["client_id"],
                key_id=data["key_id"],
                signing_alg=data["signing_alg"],
                scope_style=data["scope_style"],
            )
        except endpoints.EndpointRefused as exc:
            _refused_into(form, exc)
        else:
            messages.success(request, _("The endpoint %(name)s was created.") % {"name": endpoint.name})
            if endpoint.auth_mode == AuthMode.NONE:
                return redirect("portal:staff_endpoints")
            return redirect("portal:staff_endpoint_credentials", pk=endpoint.pk)
    return render(request, "portal/staff/endpoints/form.html", {"form": form, "endpoint": None})


@login_required
@never_cache
@reauthentication_required
def endpoint_edit(request: AuthenticatedRequest, pk: str) -> HttpResponse:
    endpoint: FhirEndpoint = fhir_selectors.endpoint_for_staff(request.user, pk)
    initial = {field: getattr(endpoint, field) for field in endpoints.EDITABLE_FIELDS}
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            updated = endpoints.update_endpoint(
                actor=request.user,
                endpoint=endpoint,
                **{field: data[field] for field in endpoints.EDITABLE_FIELDS},
            )
        except endpoints.EndpointRefused as exc:
            _refused_into(form, exc)
        else:
            moved = outbound.origin_of(updated.base_url) != outbound.origin_of(endpoint.base_url)
            if moved and (endpoint.client_secret_set_at or endpoint.private_key_set_at):
                messages.warning(request, _("The endpoint moved to another server: enter its credentials again."))
                return redirect("portal:staff_endpoint_credentials", pk=updated.pk)
            messages.success(request, _("The endpoint %(name)s was saved.") % {"name": updated.name})
            return redirect("portal:staff_endpoints")
    return render(request, "portal/staff/endpoints/form.html", {"form": form, "endpoint": endpoint})


@login_required
@never_cache
@reauthentication_required
def endpoint_credentials(request: AuthenticatedRequest, pk: str) -> HttpResponse:
    endpoint: FhirEndpoint = fhir_selectors.endpoint_for_staff(request.user, pk)
    form = CredentialsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoints.set_endpoint_secret(
                actor=request.user,
                endpoint=endpoint,
                client_secret=form.cleaned_data["client_secret"] or None,
                private_key_pem=form.cleaned_data["private_key"] or None,
            )
        except endpoints.EndpointRefused as exc:
            _refused_into(form, exc)
        else:
            messages.success(request, _("The credentials of %(name)s were saved.") % {"name": endpoint.name})
            return redirect("portal:staff_endpoints")
    response = render(request, "portal/staff/endpoints/credentials.html", {"form": form, "endpoint": endpoint})
    response["Cache-Control"] = "no-store"
    return response
