"""Sharing with a clinician: the person makes and ends links; a clinician opens one, with its passcode if any.

A link shows only the categories chosen for it (phr.records.sharing builds that view). A link with a
passcode asks for it on a POST form first; once accepted, the link stays open in that browser's session
for a short while. Unknown, ended and expired links all answer the same 404.
"""

from __future__ import annotations

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from phr.access import own_person
from phr.categories import DataCategory
from phr.models import ShareLink, User
from phr.records import sharing
from portal.http import AuthenticatedRequest
from portal.views.records_read import Reader, _context, _urls

NO_PASSCODE, GENERATED_PASSCODE, OWN_PASSCODE = "none", "generate", "own"
# Sensitive diagnoses are shared only when the person ticks them.
DEFAULT_CATEGORIES = [value for value in sharing.SHAREABLE_CATEGORIES if value != DataCategory.SENSITIVE_DIAGNOSES]


class ShareForm(forms.Form):
    label = forms.CharField(
        label=gettext_lazy("Who is it for?"),
        help_text=gettext_lazy("For example the clinic or doctor's name. It is shown in your access log."),
        max_length=100,
    )
    days = forms.TypedChoiceField(
        label=gettext_lazy("How long may it be used?"),
        coerce=int,
        choices=[(1, gettext_lazy("1 day")), (7, gettext_lazy("7 days")), (30, gettext_lazy("30 days"))],
        initial=1,
    )
    categories = forms.MultipleChoiceField(
        label=gettext_lazy("What may they see?"),
        help_text=gettext_lazy("Only what you tick is shown. Choose at least one."),
        choices=[(value, DataCategory(value).label) for value in sharing.SHAREABLE_CATEGORIES],
        initial=DEFAULT_CATEGORIES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one kind of record to share.")},
    )
    passcode_choice = forms.ChoiceField(
        label=gettext_lazy("Passcode"),
        help_text=gettext_lazy(
            "With a passcode, the link shows nothing until the passcode is entered. Tell it to the clinician "
            "separately, for example in person."
        ),
        choices=[
            (NO_PASSCODE, gettext_lazy("No passcode")),
            (GENERATED_PASSCODE, gettext_lazy("Make a passcode for me")),
            (OWN_PASSCODE, gettext_lazy("I choose the passcode")),
        ],
        initial=NO_PASSCODE,
        widget=forms.RadioSelect,
    )
    passcode = forms.CharField(
        label=gettext_lazy("Your passcode"),
        help_text=gettext_lazy("Only if you choose it yourself: 6 to 64 characters."),
        required=False,
        min_length=sharing.PASSCODE_MIN,
        max_length=sharing.PASSCODE_MAX,
        strip=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("passcode_choice") == OWN_PASSCODE
            and not cleaned.get("passcode")
            and "passcode" not in self.errors
        ):
            self.add_error("passcode", _("Type the passcode you want (6 to 64 characters)."))
        return cleaned

    def chosen_passcode(self) -> str:
        choice = self.cleaned_data["passcode_choice"]
        if choice == GENERATED_PASSCODE:
            return sharing.generate_passcode()
        return str(self.cleaned_data["passcode"]) if choice == OWN_PASSCODE else ""


class PasscodeForm(forms.Form):
    passcode = forms.CharField(
        label=gettext_lazy("Passcode"),
        max_length=sharing.PASSCODE_MAX,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )


def _qr_svg(url: str) -> str:
    return str(
        segno.make(url, error="m").svg_inline(scale=5, border=2, svgclass="qr__image", lineclass=None, omitsize=True)
    )


def _labels(categories: list[str]) -> list[str]:
    return [str(DataCategory(value).label) for value in categories if value in DataCategory.values]


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


@login_required
def share(request: AuthenticatedRequest) -> HttpResponse:
    """Sharing with a clinician: make a time-limited link with its QR code, see and end earlier links."""
    person = own_person(request.user)
    if person is None:
        raise Http404
    form = ShareForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        passcode = form.chosen_passcode()
        link, token = sharing.create_share_link(
            person=person,
            actor=request.user,
            label=form.cleaned_data["label"],
            days=form.cleaned_data["days"],
            categories=form.cleaned_data["categories"],
            passcode=passcode,
        )
        url = settings.MAMORI_BASE_URL.rstrip("/") + reverse("portal:records_shared", args=[token])
        created = {
            "link": link,
            "url": url,
            "qr": mark_safe(_qr_svg(url)),  # noqa: S308 - segno's own SVG markup
            "passcode": passcode,
            "categories": _labels(link.categories),
        }
        form = ShareForm()
    reader = Reader(person=person, is_own=True, proxy=None, urls=_urls(person, True))
    links = [(link, _labels(link.categories)) for link in sharing.share_links_of(person)]
    return _no_store(
        render(
            request,
            "portal/records/share.html",
            _context(
                reader,
                form=form,
                created=created,
                links=links,
                now=timezone.now(),
                section="share",
            ),
        )
    )


@require_POST
@login_required
def share_revoke(request: AuthenticatedRequest, link_id: str) -> HttpResponse:
    person = own_person(request.user)
    link = sharing.own_link(person, link_id) if person is not None else None
    if link is None:
        raise Http404
    sharing.revoke_share_link(link=link, actor=request.user)
    messages.success(request, _("The link no longer opens your records."))
    return redirect("portal:records_share")


def _live_link(token: str) -> ShareLink:
    link = sharing.active_link_for_token(token)
    if link is None:
        raise Http404
    return link


def _signed_in(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) and request.user.is_authenticated else None


def _shared_response(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    # Never tell another site the link (it is in the URL). Not "no-referrer": with it the browser sends
    # "Origin: null" on the passcode form's POST, which CSRF protection rightly refuses.
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _passcode_page(request: HttpRequest, link: ShareLink, form: PasscodeForm, status: int = 200) -> HttpResponse:
    locked = link.is_locked(timezone.now())
    return _shared_response(
        render(
            request,
            "portal/records/shared_passcode.html",
            {"form": form, "locked": locked, "link": link, "action": request.path},
            status=status,
        )
    )


@require_http_methods(["GET", "POST"])
def shared_summary(request: HttpRequest, token: str) -> HttpResponse:
    """What a clinician sees through a share link: the chosen categories, read-only; every view is recorded."""
    link = _live_link(token)
    actor = _signed_in(request)
    if request.method == "POST":
        form = PasscodeForm(request.POST)
        if not link.has_passcode:
            return redirect(request.path)
        if not form.is_valid():
            return _passcode_page(request, link, form, status=400)
        outcome = sharing.check_passcode(link=link, passcode=form.cleaned_data["passcode"], actor=actor)
        if outcome is sharing.PasscodeCheck.ACCEPTED:
            sharing.remember_opening(request.session, link)
            return redirect(request.path)
        if outcome is sharing.PasscodeCheck.REFUSED:
            form.add_error("passcode", _("That passcode is not right. Check it with the person and try again."))
        return _passcode_page(request, link, PasscodeForm() if outcome is sharing.PasscodeCheck.LOCKED else form, 403)
    if not sharing.opened_in_session(request.session, link):
        return _passcode_page(request, link, PasscodeForm())
    sharing.record_opening(link=link, actor=actor, page="records.shared")
    summary = sharing.shared_summary(link)
    return _shared_response(
        render(
            request,
            "portal/records/shared.html",
            {"person": link.person, "link": link, "summary": summary, "urls": {}, "token": token},
        )
    )


@require_GET
def shared_print(request: HttpRequest, token: str) -> HttpResponse:
    """The printable summary through a share link, limited to the link's categories like the summary itself."""
    link = _live_link(token)
    if not sharing.opened_in_session(request.session, link):
        return redirect("portal:records_shared", token=token)
    sharing.record_opening(link=link, actor=_signed_in(request), page="records.shared_print")
    summary = sharing.shared_summary(link)
    return _shared_response(
        render(
            request,
            "portal/records/print.html",
            {
                "person": link.person,
                "summary": summary,
                "printed_at": timezone.now(),
                "back_url": reverse("portal:records_shared", args=[token]),
                "shared_with": link.label,
            },
        )
    )
