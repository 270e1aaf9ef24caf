"""Records out: the records dashboard, the timeline, lab results with their trend, and documents.

The person reads their own record at ``me/records/…``; a proxy with the view scope reads a dependent's at
``people/<id>/records/…``, and every such read is recorded and shown to the person.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from phr.access import own_person, record_reader_for
from phr.categories import DataCategory
from phr.models import BreakGlassGrant, Person, Proxy
from phr.models.access_log import AccessRoute
from phr.models.parties import ProxyScope
from phr.records import labs as lab_selectors
from phr.records import reading
from phr.records.access_log import accesses_page, record_access
from phr.records.documents import document_from
from phr.records.help_texts import categories_with_help, help_for
from phr.records.trend import build_trend
from phr.selectors import proxies_acting_for
from portal.http import AuthenticatedRequest
from portal.mfa import session_passed_mfa


@dataclass(frozen=True)
class Reader:
    """Whose record is open, and for whom: the person, or a proxy reading for them."""

    person: Person
    is_own: bool
    proxy: Proxy | None
    urls: dict[str, str]
    grant: BreakGlassGrant | None = None


def _urls(person: Person, is_own: bool) -> dict[str, str]:
    names = ("records_home", "records_timeline", "records_labs", "records_documents")
    if is_own:
        urls = {name.removeprefix("records_"): reverse(f"portal:{name}") for name in names}
        urls["dashboard"] = reverse("portal:dashboard")
        urls["self_report"] = reverse("portal:records_self_report")
        urls["access_log"] = reverse("portal:records_access_log")
        urls["export"] = reverse("portal:records_export")
        urls["share"] = reverse("portal:records_share")
        urls["print"] = reverse("portal:records_print")
    else:
        urls = {name.removeprefix("records_"): reverse(f"portal:{name}_for", args=[person.pk]) for name in names}
        urls["dashboard"] = reverse("portal:dependent_dashboard", args=[person.pk])
        urls["export"] = reverse("portal:records_export_for", args=[person.pk])
        urls["print"] = reverse("portal:records_print_for", args=[person.pk])
    return urls


def _reader(request: AuthenticatedRequest, person_id: str | None, page: str, subject: str = "") -> Reader:
    found = record_reader_for(request.user, person_id, mfa_passed=lambda: session_passed_mfa(request))
    person, proxy, grant = found.person, found.proxy, found.grant
    if grant is not None:
        record_access(
            person=person,
            actor=request.user,
            route=AccessRoute.BREAK_GLASS,
            page=page,
            subject=subject,
            break_glass=grant,
        )
    elif not found.is_own:
        record_access(
            person=person, actor=request.user, route=AccessRoute.PROXY, page=page, subject=subject, proxy=proxy
        )
    urls = _urls(person, found.is_own)
    if grant is not None:
        urls["dashboard"] = reverse("portal:staff_break_glass")
    return Reader(person=person, is_own=found.is_own, proxy=proxy, urls=urls, grant=grant)


def _context(reader: Reader, **extra: object) -> dict[str, object]:
    return {
        "person": reader.person,
        "is_own": reader.is_own,
        "proxy": reader.proxy,
        "grant": reader.grant,
        "urls": reader.urls,
        **extra,
    }


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
def access_log(request: AuthenticatedRequest) -> HttpResponse:
    """Who looked at my record: every read by someone other than the person, newest first."""
    reader = _reader(request, None, "records.access_log")
    return render(
        request,
        "portal/records/access_log.html",
        _context(
            reader, page=accesses_page(reader.person, _page_number(request.GET.get("page"))), section="access_log"
        ),
    )
