"""API clients for organisation administrators: list, register, rotate the secret, revoke.

Only the clients of organisations the user administers are visible; any other is a 404. Creating, rotating and
revoking ask for the password again (re-authentication). A new secret is shown once, on the page that answers
the request, and never again.
"""

from __future__ import annotations

import json
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
from django.views.decorators.http import require_POST

from consent import api_clients
from consent.api.assertions import token_url
from consent.api.jwks_fetch import UnsafeJwksUrl, check_url_form
from consent.models import ApiClient, ApiScope
from phr import json_limits, roles
from phr.models import Organisation
from portal.http import AuthenticatedRequest

UNSAFE_URL_MESSAGES = {
    "scheme": gettext_lazy("The JWKS URL must use https."),
    "host": gettext_lazy("The JWKS URL has no host."),
    "credentials": gettext_lazy("The JWKS URL must not carry a user name or password."),
    "private": gettext_lazy("The JWKS URL points at a private or reserved address, which Mamori never fetches."),
}


class KeysForm(forms.Form):
    jwks_url = forms.URLField(
        label=gettext_lazy("JWKS URL"),
        required=False,
        max_length=500,
        help_text=gettext_lazy("Where the client publishes its public keys (RS384 or ES384)."),
    )
    jwks = forms.CharField(
        label=gettext_lazy("JWKS (inline JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text=gettext_lazy("Instead of a URL: the public keys as a JSON Web Key Set."),
    )

    def clean_jwks_url(self) -> str:
        url: str = self.cleaned_data["jwks_url"]
        if url:
            try:
                check_url_form(url)
            except UnsafeJwksUrl as error:
                raise forms.ValidationError(UNSAFE_URL_MESSAGES.get(error.code, str(error))) from None
        return url

    def clean_jwks(self) -> dict[str, Any] | None:
        text = self.cleaned_data["jwks"].strip()
        if not text:
            return None
        try:
            return api_clients.validate_jwks(json_limits.loads(text))
        except json_limits.TooDeep as exc:
            raise forms.ValidationError(exc.localised()) from None
        except json.JSONDecodeError:
            raise forms.ValidationError(_("This is not valid JSON.")) from None
        except api_clients.ApiClientError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("jwks_url") and data.get("jwks"):
            raise forms.ValidationError(_("Give either a JWKS URL or an inline JWKS, not both."))
        return data


class ApiClientForm(KeysForm):
    field_order = ("organisation", "name", "allowed_scopes", "jwks_url", "jwks", "with_secret")
    organisation = forms.ModelChoiceField(label=gettext_lazy("Organisation"), queryset=Organisation.objects.none())
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    allowed_scopes = forms.MultipleChoiceField(
        label=gettext_lazy("Allowed scopes"), choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple
    )
    with_secret = forms.BooleanField(
        label=gettext_lazy("Also issue a client secret (HTTP Basic)"),
        required=False,
        help_text=gettext_lazy("Shown once after registration. Prefer signed assertions with keys."),
    )

    def __init__(self, *args: Any, organisations: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations  # type: ignore[attr-defined]
        if organisations.count() == 1:
            self.fields["organisation"].initial = organisations.first()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not (data.get("jwks_url") or data.get("jwks") or data.get("with_secret") or self.errors):
            raise forms.ValidationError(_("A client needs a JWKS (URL or inline) or a secret."))
        return data


def _administered(request: AuthenticatedRequest) -> QuerySet[Organisation]:
    """The organisations whose clients the user may manage; 403 when there is none (phr.roles)."""
    organisations = api_clients.administered_organisations(request.user)
    if not organisations.exists():
        raise roles.NotAllowed
    return organisations


def _secret_page(
    request: AuthenticatedRequest, client: ApiClient, secret: str | None, *, created: bool
) -> HttpResponse:
    response = render(
        request,
        "portal/staff/api_clients/created.html",
        {"client": client, "secret": secret, "created": created, "token_url": token_url()},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
def client_list(request: AuthenticatedRequest) -> HttpResponse:
    _administered(request)
    clients = api_clients.clients_for_admin(request.user).order_by("organisation__name", "revoked_at", "name")
    return render(request, "portal/staff/api_clients/list.html", {"clients": clients, "token_url": token_url()})


@login_required
@never_cache
@reauthentication_required
def client_new(request: AuthenticatedRequest) -> HttpResponse:
    form = ApiClientForm(request.POST or None, organisations=_administered(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            client, secret = api_clients.register_client(
                organisation=data["organisation"],
                actor=request.user,
                name=data["name"],
                allowed_scopes=data["allowed_scopes"],
                jwks_url=data["jwks_url"],
                jwks=data["jwks"],
                with_secret=data["with_secret"],
            )
        except api_clients.ApiClientError as exc:
            form.add_error(None, str(exc))
        else:
            return _secret_page(request, client, secret, created=True)
    return render(request, "portal/staff/api_clients/new.html", {"form": form})


@login_required
@never_cache
@require_POST
@reauthentication_required
def client_rotate_secret(request: AuthenticatedRequest, pk: str) -> HttpResponse:
    client = api_clients.client_for_admin(request.user, pk)
    try:
        secret = api_clients.rotate_secret(client=client, actor=request.user)
    except api_clients.ApiClientError as exc:
        messages.error(request, str(exc))
        return redirect("portal:staff_api_clients")
    return _secret_page(request, client, secret, created=False)


@login_required
@never_cache
@reauthentication_required
def client_keys(request: AuthenticatedRequest, pk: str) -> HttpResponse:
    client = api_clients.client_for_admin(request.user, pk)
    initial = {"jwks_url": client.jwks_url, "jwks": json.dumps(client.jwks, indent=2) if client.jwks else ""}
    form = KeysForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            api_clients.replace_keys(
                client=client,
                actor=request.user,
                jwks_url=form.cleaned_data["jwks_url"],
                jwks=form.cleaned_data["jwks"],
            )
        except api_clients.ApiClientError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The keys of %(name)s were replaced.") % {"name": client.name})
            return redirect("portal:staff_api_clients")
    return render(request, "portal/staff/api_clients/keys.html", {"form": form, "client": client})


@login_required
@require_POST
@reauthentication_required
def client_revoke(request: AuthenticatedRequest, pk: str) -> HttpResponse:
    client = api_clients.client_for_admin(request.user, pk)
    api_clients.revoke_client(client=client, actor=request.user)
    messages.success(request, _("The client %(name)s was revoked; its tokens no longer work.") % {"name": client.name})
    return redirect("portal:staff_api_clients")
