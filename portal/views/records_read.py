"""Records out: the records dashboard, the timeline, lab results with their trend, and documents.

The person reads their own record at ``me/records/…``; a proxy with the view scope reads a dependent's at
``people/<id>/records/…``, and every such read is recorded and shown to the person.
"""

from __future__ import annotations

from dataclasses import dataclass

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from phr.access import active_proxy_for, own_person, person_for_user
from phr.categories import DataCategory
from phr.models import Person, Proxy, User
from phr.models.access_log import AccessRoute
from phr.models.parties import ProxyScope
from phr.records import labs as lab_selectors
from phr.records import reading, sharing
from phr.records.access_log import accesses_of, record_access
from phr.records.documents import document_from
from phr.records.export import export_bundle
from phr.records.help_texts import categories_with_help, help_for
from phr.records.trend import build_trend
from phr.selectors import proxies_acting_for
from phr.services import record_audit
from portal.http import AuthenticatedRequest


@dataclass(frozen=True)
class Reader:
    """Whose record is open, and for whom: the person, or a proxy reading for them."""

    person: Person
    is_own: bool
    proxy: Proxy | None
    urls: dict[str, str]


def _urls(person: Person, is_own: bool) -> dict[str, str]:
    names = ("records_home", "records_timeline", "records_labs", "records_documents")
    if is_own:
        urls = {name.removeprefix("records_"): reverse(f"portal:{name}") for name in names}
        urls["dashboard"] = reverse("portal:dashboard")
        urls["self_report"] = reverse("portal:records_self_report")
        urls["access_log"] = reverse("portal:records_access_log")
        urls["export"] = reverse("portal:records_export")
        urls["share"] = reverse("portal:records_share")
    else:
        urls = {name.removeprefix("records_"): reverse(f"portal:{name}_for", args=[person.pk]) for name in names}
        urls["dashboard"] = reverse("portal:dependent_dashboard", args=[person.pk])
    return urls


def _reader(request: AuthenticatedRequest, person_id: str | None, page: str, subject: str = "") -> Reader:
    person = person_for_user(request.user, person_id, scope=ProxyScope.VIEW)
    own = own_person(request.user)
    is_own = own is not None and own.pk == person.pk
    proxy = None
    if not is_own:
        proxy = active_proxy_for(request.user, person.pk)
        record_access(
            person=person, actor=request.user, route=AccessRoute.PROXY, page=page, subject=subject, proxy=proxy
        )
    return Reader(person=person, is_own=is_own, proxy=proxy, urls=_urls(person, is_own))


def _context(reader: Reader, **extra: object) -> dict[str, object]:
    return {"person": reader.person, "is_own": reader.is_own, "proxy": reader.proxy, "urls": reader.urls, **extra}


@require_GET
@login_required
def records_home(request: AuthenticatedRequest, person_id: str | None = None) -> HttpResponse:
    reader = _reader(request, person_id, "records.dashboard")
    board = reading.records_dashboard(reader.person)
    helps = {
        key: help_for(category)
        for key, category in (
            ("conditions", DataCategory.DIAGNOSES),
            ("allergies", DataCategory.ALLERGIES),
            ("contraindications", DataCategory.DRUG_CONTRAINDICATIONS),
            ("prescriptions", DataCategory.PRESCRIPTIONS),
            ("labs", DataCategory.LAB_RESULTS),
            ("documents", DataCategory.DOCUMENTS),
        )
    }
    can_sync = reader.is_own or (reader.proxy is not None and reader.proxy.allows(ProxyScope.MANAGE_CONSENT))
    return render(
        request,
        "portal/records/overview.html",
        _context(
            reader,
            board=board,
            helps=helps,
            can_sync=can_sync,
            section="home",
            acting_for=list(proxies_acting_for(request.user)),
            own=own_person(request.user),
        ),
    )


def _page_number(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 10_000))
    except ValueError:
        return 1


@require_GET
@login_required
def timeline(request: AuthenticatedRequest, person_id: str | None = None) -> HttpResponse:
    reader = _reader(request, person_id, "records.timeline")
    categories = categories_with_help()
    sources = reading.source_choices(reader.person)
    category = request.GET.get("category", "")
    category = category if category in {value for value, _label, _help in categories} else ""
    source = request.GET.get("source", "")
    source = source if source in {choice.key for choice in sources} else ""
    query = request.GET.get("q", "").strip()[:100]
    page = reading.timeline(
        reader.person, category=category, source=source, query=query, page=_page_number(request.GET.get("page"))
    )
    filters = request.GET.copy()
    filters.pop("page", None)
    return render(
        request,
        "portal/records/timeline.html",
        _context(
            reader,
            page=page,
            categories=categories,
            sources=sources,
            category=category,
            category_help=help_for(category),
            source=source,
            query=query,
            filters=filters.urlencode(),
            section="timeline",
        ),
    )


@require_GET
@login_required
def lab_list(request: AuthenticatedRequest, person_id: str | None = None) -> HttpResponse:
    reader = _reader(request, person_id, "records.labs")
    groups = lab_selectors.latest_labs(reader.person)
    return render(
        request,
        "portal/records/labs.html",
        _context(reader, groups=groups, help=help_for(DataCategory.LAB_RESULTS), section="labs"),
    )


@require_GET
@login_required
def lab_detail(request: AuthenticatedRequest, key: str, person_id: str | None = None) -> HttpResponse:
    reader = _reader(request, person_id, "records.lab", key[:64])
    group = lab_selectors.lab_history(reader.person, key[:64])
    if group is None:
        raise Http404
    return render(
        request,
        "portal/records/lab_detail.html",
        _context(reader, group=group, trend=build_trend(group.values), section="labs"),
    )


@require_GET
@login_required
def document_list(request: AuthenticatedRequest, person_id: str | None = None) -> HttpResponse:
    reader = _reader(request, person_id, "records.documents")
    documents = reading.documents_of(reader.person)
    return render(
        request,
        "portal/records/documents.html",
        _context(reader, documents=documents, help=help_for(DataCategory.DOCUMENTS), section="documents"),
    )


@require_GET
@login_required
def document_detail(request: AuthenticatedRequest, resource_id: str, person_id: str | None = None) -> HttpResponse:
    reader = _reader(request, person_id, "records.document", resource_id[:64])
    entry = reading.document_entry(reader.person, resource_id)
    if entry is None:
        raise Http404
    document = document_from(entry.raw, fallback_title=entry.display)
    return render(
        request,
        "portal/records/document_detail.html",
        _context(reader, entry=entry, document=document, section="documents"),
    )


@require_GET
@login_required
def export(request: AuthenticatedRequest) -> StreamingHttpResponse:
    """Download my whole record as a FHIR Bundle; the person only, and the export is recorded."""
    person = own_person(request.user)
    if person is None:
        raise Http404
    record_audit(actor=request.user, person=person, action="records.exported")
    response = StreamingHttpResponse(export_bundle(person), content_type="application/fhir+json")
    response["Content-Disposition"] = f'attachment; filename="mamori-records-{timezone.localdate():%Y%m%d}.json"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@login_required
def access_log(request: AuthenticatedRequest) -> HttpResponse:
    """Who looked at my record: every read by someone other than the person, newest first."""
    reader = _reader(request, None, "records.access_log")
    return render(
        request,
        "portal/records/access_log.html",
        _context(reader, accesses=list(accesses_of(reader.person).select_related("proxy")), section="access_log"),
    )


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


def _qr_svg(url: str) -> str:
    return str(
        segno.make(url, error="m").svg_inline(scale=5, border=2, svgclass="qr__image", lineclass=None, omitsize=True)
    )


@login_required
def share(request: AuthenticatedRequest) -> HttpResponse:
    """Sharing with a clinician: make a time-limited link with its QR code, see and end earlier links."""
    person = own_person(request.user)
    if person is None:
        raise Http404
    form = ShareForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        link, token = sharing.create_share_link(
            person=person, actor=request.user, label=form.cleaned_data["label"], days=form.cleaned_data["days"]
        )
        url = settings.MAMORI_BASE_URL.rstrip("/") + reverse("portal:records_shared", args=[token])
        created = {"link": link, "url": url, "qr": mark_safe(_qr_svg(url))}  # noqa: S308 - segno's own SVG markup
        form = ShareForm()
    reader = Reader(person=person, is_own=True, proxy=None, urls=_urls(person, True))
    response = render(
        request,
        "portal/records/share.html",
        _context(
            reader,
            form=form,
            created=created,
            links=list(sharing.share_links_of(person)),
            now=timezone.now(),
            section="share",
        ),
    )
    response["Cache-Control"] = "no-store"
    return response


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


@require_GET
def shared_summary(request: HttpRequest, token: str) -> HttpResponse:
    """What a clinician sees through a share link: the summary, read-only; every view is recorded."""
    link = sharing.active_link_for_token(token)
    if link is None:
        raise Http404
    actor = request.user if isinstance(request.user, User) and request.user.is_authenticated else None
    record_access(person=link.person, actor=actor, route=AccessRoute.SHARE_LINK, page="records.shared", share_link=link)
    board = reading.records_dashboard(link.person)
    response = render(
        request,
        "portal/records/shared.html",
        {"person": link.person, "link": link, "board": board, "urls": {}},
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
