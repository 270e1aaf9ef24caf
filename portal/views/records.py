"""Records in, by hand: uploading a FHIR file, following its import, and deleting records."""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from phr import services as party_services
from phr.models import Person, User
from phr.models.records import SyncRunStatus
from phr.records import deletion, selectors, uploads
from phr.records.access import person_for_deletion, person_for_upload, upload_run_for_user
from phr.records.access_log import record_staff_read
from portal.http import AuthenticatedRequest

PROBLEM_CONTENT_TYPE = "application/problem+json"


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("FHIR file"))


class DeleteRecordsForm(forms.Form):
    scope = forms.ChoiceField(label=gettext_lazy("Which records"), widget=forms.RadioSelect)
    confirmation = forms.CharField(label=gettext_lazy("Type the word shown above to confirm"), max_length=40)

    def __init__(self, *args: object, sources: list[selectors.RecordSource], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        scope = self.fields["scope"]
        assert isinstance(scope, forms.ChoiceField)
        scope.choices = [
            (source.key, _("%(label)s (%(count)d records)") % {"label": source.label, "count": source.resources})
            for source in sources
        ]

    def clean_confirmation(self) -> str:
        value = str(self.cleaned_data["confirmation"]).strip()
        if value.casefold() != confirmation_word().casefold():
            raise forms.ValidationError(_("Type “%(word)s” to confirm.") % {"word": confirmation_word()})
        return value


def confirmation_word() -> str:
    return _("delete")


def _wants_html(request: HttpRequest) -> bool:
    return "text/html" in request.headers.get("Accept", "")


def _too_large_message() -> str:
    return _("The file is larger than %(limit)s. Split it into smaller files and upload them one by one.") % {
        "limit": filesizeformat(uploads.max_upload_bytes())
    }


def _problem(status: int, title: str, detail: str) -> JsonResponse:
    return JsonResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def _upload_page(request: HttpRequest, person: Person, form: UploadForm, *, problem: str = "") -> HttpResponse:
    assert isinstance(request.user, User)
    record_staff_read(person=person, actor=request.user, page="records.uploads")
    context = {
        "person": person,
        "form": form,
        "problem": problem,
        "is_own": person.user_id == request.user.pk,
        "limit": uploads.max_upload_bytes(),
        "runs": list(selectors.upload_runs(person)),
    }
    return render(request, "portal/records/upload.html", context)


@csrf_exempt
@login_required
def upload(request: AuthenticatedRequest, person_id: str | None = None) -> HttpResponse:
    """The upload page. The body is streamed by LimitedUploadHandler, so CSRF is checked after it is set."""
    person = person_for_upload(request.user, person_id)
    if request.method == "POST":
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > uploads.max_upload_bytes() + uploads.ENVELOPE_BYTES:
            return _refuse_too_large(request, person)
        handler = uploads.LimitedUploadHandler(request)
        request.upload_handlers = [handler]
        try:
            return _receive_upload(request, person=person, handler=handler)
        finally:
            _discard_unclaimed(request)
    return _upload_page(request, person, UploadForm())


def _discard_unclaimed(request: HttpRequest) -> None:
    """An upload refused for any reason (CSRF, form errors) must not stay on disk."""
    if hasattr(request, "_files"):  # only if the body was parsed; never parse it here
        for stored in request.FILES.values():
            if isinstance(stored, uploads.StoredUpload):
                stored.discard()


def _refuse_too_large(request: HttpRequest, person: Person) -> HttpResponse:
    if _wants_html(request):
        return _upload_page(request, person, UploadForm(), problem=_too_large_message())
    return _problem(413, _("The file is too large."), _too_large_message())


@csrf_protect
def _receive_upload(
    request: AuthenticatedRequest, *, person: Person, handler: uploads.LimitedUploadHandler
) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES)
    stored = request.FILES.get(uploads.UPLOAD_FIELD)
    if handler.too_large:
        return _refuse_too_large(request, person)
    if not form.is_valid() or not isinstance(stored, uploads.StoredUpload):
        if isinstance(stored, uploads.StoredUpload):
            stored.discard()
        if _wants_html(request):
            return _upload_page(request, person, form)
        return _problem(400, _("No file was uploaded."), _("Send the file in the form field “file”."))
    try:
        run = uploads.start_upload(person=person, actor=request.user, upload=stored)
    except uploads.UploadTooLarge:
        return _refuse_too_large(request, person)
    if person.user_id != request.user.pk:
        party_services.record_audit(
            actor=request.user, person=person, action="records.uploaded_for_person", run=str(run.id)
        )
    location = reverse("portal:records_upload_run", args=[run.id])
    if _wants_html(request):
        messages.success(request, _("Your file was received. Its records are being imported."))
        return redirect(location)
    response = JsonResponse({"run": str(run.id), "status": run.status}, status=202)
    response["Location"] = location
    return response


@login_required
def upload_run(request: AuthenticatedRequest, run_id: str) -> HttpResponse:
    run = upload_run_for_user(request.user, run_id)
    record_staff_read(person=run.person, actor=request.user, page="records.upload_run", subject=str(run.pk))
    finished = run.status in (SyncRunStatus.SUCCEEDED, SyncRunStatus.FAILED)
    context = {"run": run, "person": run.person, "finished": finished, "is_own": run.person.user_id == request.user.pk}
    return render(request, "portal/records/run.html", context)


@login_required
def delete_records(request: AuthenticatedRequest) -> HttpResponse:
    person = person_for_deletion(request.user)
    sources = selectors.record_sources(person)
    form = DeleteRecordsForm(request.POST or None, sources=sources)
    if request.method == "POST" and form.is_valid():
        scope = deletion.scope_for(person, form.cleaned_data["scope"])
        if scope is None:
            form.add_error("scope", _("Choose which records to delete."))
        else:
            return _delete_records(request, person=person, scope=scope)
    return render(
        request,
        "portal/records/delete.html",
        {"person": person, "form": form, "sources": sources, "word": confirmation_word()},
    )


@reauthentication_required
def _delete_records(request: AuthenticatedRequest, *, person: Person, scope: deletion.DeletionScope) -> HttpResponse:
    done = deletion.delete_records(person=person, scope=scope, actor=request.user)
    messages.success(
        request,
        _("%(count)d records were deleted, with their earlier versions.") % {"count": done.resources_deleted},
    )
    return redirect("portal:dashboard")
