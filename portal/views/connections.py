"""Hospital connections: the person's list with "sync now" and live progress, the SMART launch, and the
operator's page that links a person's patient number at a hospital."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from phr import roles
from phr import selectors as party_selectors
from phr import services as party_services
from phr.access import own_person, person_for_user
from phr.errors import IdentifierAlreadyLinked
from phr.fhir import selectors, smart_launch
from phr.fhir import services as fhir_services
from phr.fhir.access import connection_for_user, endpoint_by_id
from phr.fhir.errors import FhirClientError, LaunchRefused
from phr.models import FhirEndpoint, Person, User
from phr.models.fhir import AuthMode, ConnectionStatus
from phr.models.parties import ProxyScope
from phr.models.records import SyncRun
from phr.roles import Action
from portal.http import AuthenticatedRequest


def _list_url(person: Person, request: AuthenticatedRequest) -> str:
    own = own_person(request.user)
    if own is not None and own.pk == person.pk:
        return reverse("portal:connections")
    return reverse("portal:person_connections", args=[person.pk])


@login_required
def connection_list(request: AuthenticatedRequest, person_id: str | None = None) -> HttpResponse:
    person = person_for_user(request.user, person_id)
    is_own = person == own_person(request.user)
    if not is_own:
        party_services.record_audit(actor=request.user, person=person, action="proxy.viewed_connections")
    rows = selectors.connections_of(person)
    return render(
        request,
        "portal/connections/list.html",
        {
            "person": person,
            "rows": rows,
            "endpoints": list(selectors.connectable_endpoints(person)),
            "is_own": is_own,
            "statuses": ConnectionStatus,
        },
    )


def _run_json(run: SyncRun | None) -> dict[str, object]:
    if run is None:
        return {"status": None, "in_progress": False}
    return {
        "status": run.status,
        "status_label": run.get_status_display(),
        "in_progress": run.status in ("queued", "running"),
        "created": run.created_count,
        "updated": run.updated_count,
        "unchanged": run.unchanged_count,
        "rejected": run.rejected_count,
        "deleted": run.deleted_count,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "error": run.error,
    }


@require_POST
@login_required
def sync_now(request: AuthenticatedRequest, connection_id: str) -> HttpResponse:
    connection = connection_for_user(request.user, connection_id, scope=ProxyScope.MANAGE_CONSENT)
    try:
        run = fhir_services.request_sync(connection=connection, actor=request.user)
    except fhir_services.ConnectionNotAllowed as exc:
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse({"error": str(exc)}, status=409)
        messages.error(request, str(exc))
        return redirect(_list_url(connection.person, request))
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse(_run_json(run), status=202)
    messages.success(request, _("The sync has started. New records appear when it finishes."))
    return redirect(_list_url(connection.person, request))


@require_POST
@login_required
def disconnect(request: AuthenticatedRequest, connection_id: str) -> HttpResponse:
    """Stop a connection: its tokens are deleted and no more syncs run; records already pulled stay."""
    connection = connection_for_user(request.user, connection_id, scope=ProxyScope.MANAGE_CONSENT)
    fhir_services.revoke_connection(connection=connection, actor=request.user)
    messages.success(request, _("%(hospital)s is disconnected.") % {"hospital": connection.endpoint.organisation.name})
    return redirect(_list_url(connection.person, request))


@require_GET
@login_required
def sync_status(request: AuthenticatedRequest, connection_id: str) -> JsonResponse:
    connection = connection_for_user(request.user, connection_id)
    response = JsonResponse(_run_json(selectors.latest_run(connection)))
    response["Cache-Control"] = "no-store"
    return response


def _redirect_uri() -> str:
    return settings.MAMORI_BASE_URL.rstrip("/") + reverse("portal:connection_callback")


@require_POST
@login_required
def connect(request: AuthenticatedRequest, endpoint_id: str, person_id: str | None = None) -> HttpResponse:
    """Start a SMART standalone launch: the person signs in at the hospital and allows Mamori to read."""
    person = person_for_user(request.user, person_id, scope=ProxyScope.MANAGE_CONSENT)
    endpoint = endpoint_by_id(endpoint_id)
    if endpoint.auth_mode != AuthMode.SMART_PATIENT:
        messages.error(request, _("This hospital does not let people connect themselves."))
        return redirect(_list_url(person, request))
    try:
        authorize_url = smart_launch.begin(
            request.session, endpoint=endpoint, person=person, redirect_uri=_redirect_uri()
        )
    except FhirClientError:
        messages.error(request, _("The hospital's server could not be reached. Please try again later."))
        return redirect(_list_url(person, request))
    return redirect(authorize_url)


@require_GET
@login_required
def launch_callback(request: AuthenticatedRequest) -> HttpResponse:
    """Where the hospital's authorisation server sends the browser back, with a code and the state."""
    try:
        launch = smart_launch.take_pending(request.session, request.GET.get("state", ""))
    except LaunchRefused:
        return render(
            request,
            "portal/connections/launch_failed.html",
            {"reason": _("This answer does not belong to a connection you started here. Please start again.")},
            status=400,
        )
    person = person_for_user(request.user, launch.person_id, scope=ProxyScope.MANAGE_CONSENT)
    endpoint = endpoint_by_id(launch.endpoint_id)
    if request.GET.get("error"):
        return render(
            request,
            "portal/connections/launch_failed.html",
            {"reason": _("The hospital did not allow access, so nothing was connected."), "person": person},
            status=400,
        )
    try:
        smart_launch.complete(
            launch=launch,
            endpoint=endpoint,
            person=person,
            code=request.GET.get("code", ""),
            redirect_uri=_redirect_uri(),
            actor=request.user,
        )
    except FhirClientError:
        return render(
            request,
            "portal/connections/launch_failed.html",
            {"reason": _("The hospital did not confirm the connection. Please start again."), "person": person},
            status=400,
        )
    messages.success(request, _("%(hospital)s is connected.") % {"hospital": endpoint.organisation.name})
    return redirect(_list_url(person, request))


class LinkPatientForm(forms.Form):
    linkage_id = forms.CharField(label=gettext_lazy("National linkage id"), max_length=64)
    endpoint = forms.ModelChoiceField(
        label=gettext_lazy("Hospital"), queryset=FhirEndpoint.objects.none(), empty_label=None
    )
    patient_number = forms.CharField(label=gettext_lazy("Patient number at the hospital"), max_length=64)
    sync_now = forms.BooleanField(label=gettext_lazy("Sync now"), required=False, initial=True)

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Only the hospitals whose patients this user may link (all of them, for the operator's administrators).
        endpoints = roles.restrict(selectors.hospital_endpoints(), user, Action.LINK_PATIENT)
        self.fields["endpoint"].queryset = endpoints  # type: ignore[attr-defined]
        self.fields["endpoint"].label_from_instance = lambda e: e.organisation.name  # type: ignore[attr-defined]

    def clean_linkage_id(self) -> Person:
        person = party_selectors.person_by_identifier(settings.MAMORI_LINKAGE_SYSTEM, self.cleaned_data["linkage_id"])
        if person is None:
            raise forms.ValidationError(_("No person has this linkage id."))
        return person


@login_required
def staff_link_patient(request: AuthenticatedRequest) -> HttpResponse:
    """Staff the role policy lets link patients (the operator's administrators, a hospital's own for its
    patients) link a person's patient number: a hospital-authorised connection."""
    if not roles.can_somewhere(request.user, Action.LINK_PATIENT):
        raise roles.NotAllowed
    form = LinkPatientForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        person: Person = form.cleaned_data["linkage_id"]
        try:
            # Link and first sync together: a refused sync leaves no half-made link behind.
            with transaction.atomic():
                connection = fhir_services.link_hospital_patient(
                    person=person,
                    endpoint=form.cleaned_data["endpoint"],
                    patient_number=form.cleaned_data["patient_number"],
                    actor=request.user,
                )
                if form.cleaned_data["sync_now"]:
                    fhir_services.request_sync(connection=connection, actor=request.user)
        except IdentifierAlreadyLinked as exc:
            form.add_error("patient_number", str(exc))
        except fhir_services.ConnectionNotAllowed as exc:
            form.add_error(None, str(exc))
        except roles.NotAllowed:
            form.add_error("endpoint", _("You may not link patients of this hospital."))
        else:
            messages.success(request, _("The patient number was linked and the hospital connection created."))
            return redirect("portal:staff_link_patient")
    return render(request, "portal/connections/link_patient.html", {"form": form})
