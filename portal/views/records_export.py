"""Records out to a file or to paper: download everything (Bundle or NDJSON) and the printable summary.

A record up to MAMORI_EXPORT_INLINE_MAX resources streams straight away; a larger one is built by a worker
and offered on the export page when ready (the page shows progress, polled by a small script or by a
refresh). The person exports their own record; a proxy with the view scope a dependent's, and every page
and download a proxy opens is recorded for the person.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from phr.access import person_for_user
from phr.models.exports import ExportFormat, ExportJob
from phr.models.parties import ProxyScope
from phr.records import export, export_jobs
from phr.records.summary import SUMMARY_CATEGORIES, summary_of
from phr.services import record_audit
from portal.http import AuthenticatedRequest
from portal.views.records_read import Reader, _context, _reader


def _exporter(request: AuthenticatedRequest, person_id: str | None, page: str, subject: str = "") -> Reader:
    """The reader of these pages: the person or a proxy with the view scope, never another route (404)."""
    person_for_user(request.user, person_id, scope=ProxyScope.VIEW)
    return _reader(request, person_id, page, subject)


def _url(name: str, reader: Reader, *args: object) -> str:
    if reader.is_own:
        return reverse(f"portal:{name}", args=args)
    return reverse(f"portal:{name}_for", args=[reader.person.pk, *args])


def _job_urls(reader: Reader, job: ExportJob) -> dict[str, str]:
    return {
        "status": _url("records_export_status", reader, job.pk),
        "download": _url("records_export_job_download", reader, job.pk),
    }


def _record_download(reader: Reader, request: AuthenticatedRequest, fmt: str) -> None:
    if reader.is_own:
        record_audit(actor=request.user, person=reader.person, action="records.exported", format=fmt)


def _attachment(pieces: Iterator[bytes], fmt: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(pieces, content_type=export.CONTENT_TYPES[ExportFormat(fmt)])
    response["Content-Disposition"] = f'attachment; filename="{export.file_name(fmt)}"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@login_required
def export_page(request: AuthenticatedRequest, person_id: str | None = None) -> HttpResponse:
    """Download everything: straight away for a usual record, or prepared in the background for a large one."""
    reader = _exporter(request, person_id, "records.export")
    if request.method == "POST":
        fmt = request.POST.get("format", "")
        if fmt not in ExportFormat.values:
            messages.error(request, _("Choose one of the formats offered."))
        else:
            export_jobs.request_export(person=reader.person, actor=request.user, fmt=fmt)
            messages.success(request, _("Your file is being prepared. This page shows when it is ready."))
        return redirect(_url("records_export", reader))
    count = export.resource_count(reader.person)
    jobs = [(job, _job_urls(reader, job)) for job in export_jobs.export_jobs_of(reader.person, request.user)]
    formats = [
        {"value": value, "label": label, "download": _url("records_export_download", reader, value)}
        for value, label in ExportFormat.choices
    ]
    response = render(
        request,
        "portal/records/export.html",
        _context(
            reader,
            count=count,
            large=count > export.inline_max(),
            days=export_jobs.export_days(),
            formats=formats,
            jobs=jobs,
            print_url=_url("records_print", reader),
            now=timezone.now(),
            section="export",
        ),
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@login_required
def export_download(request: AuthenticatedRequest, fmt: str, person_id: str | None = None) -> HttpResponseBase:
    """The whole record streamed now; a large record is sent to the export page to be prepared instead."""
    if fmt not in ExportFormat.values:
        raise Http404
    reader = _exporter(request, person_id, "records.export_download", fmt)
    if export.is_large(reader.person):
        messages.info(request, _("Your record is large: ask for the file below and download it when it is ready."))
        return redirect(_url("records_export", reader))
    _record_download(reader, request, fmt)
    return _attachment(export.export_stream(reader.person, fmt), fmt)


@require_GET
@login_required
def export_status(request: AuthenticatedRequest, job_id: str, person_id: str | None = None) -> JsonResponse:
    """A background export's progress as JSON, for the page's script (no health data: counts and state)."""
    person = person_for_user(request.user, person_id, scope=ProxyScope.VIEW)
    job = export_jobs.export_job_for(person, request.user, job_id)
    if job is None:
        raise Http404
    response = JsonResponse(
        {
            "status": job.status,
            "status_label": str(job.get_status_display()),
            "done": job.done,
            "total": job.total,
            "percent": job.percent,
            "in_progress": job.in_progress,
            "ready": job.is_downloadable(timezone.now()),
        }
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@login_required
def export_job_download(
    request: AuthenticatedRequest, job_id: str, person_id: str | None = None
) -> StreamingHttpResponse:
    """A ready background export, decrypted as it streams; another person's or an expired job is 404."""
    reader = _exporter(request, person_id, "records.export_download", str(job_id)[:64])
    job = export_jobs.export_job_for(reader.person, request.user, job_id)
    if job is None or not job.is_downloadable(timezone.now()):
        raise Http404
    _record_download(reader, request, job.format)
    return _attachment(export_jobs.read_export(job), job.format)


@require_GET
@login_required
def print_summary(request: AuthenticatedRequest, person_id: str | None = None) -> HttpResponse:
    """A print-friendly summary: allergies first, conditions, current medicines, latest labs, with sources."""
    reader = _exporter(request, person_id, "records.print")
    response = render(
        request,
        "portal/records/print.html",
        {
            **_context(reader),
            "summary": summary_of(reader.person, SUMMARY_CATEGORIES),
            "printed_at": timezone.now(),
            "back_url": reader.urls["home"],
        },
    )
    response["Cache-Control"] = "no-store"
    return response
