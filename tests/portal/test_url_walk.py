"""Every URL pattern, walked as an attacker would: a staff member whose session has not passed a second factor
reaches nothing but the flow that gives one, and a proxy who may only view changes nothing of the person.

The walk reads the URLconf itself (``get_resolver()``, recursively), so a page added later is walked too. Path
parameters are filled with real objects made here: the person the attacker is related to, their records,
upload, export, share link, receipt, hospital connection, notice and emergency-access grant.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.converters import IntConverter
from django.utils.regex_helper import normalize

from consent.models import ApiClient, ConsentEvent, ConsentState, Directive, Receipt
from phr import break_glass, services
from phr.models import (
    Connection,
    FhirEndpoint,
    FhirResource,
    Identifier,
    Organisation,
    Person,
    Proxy,
    ResourceIndex,
    ShareLink,
    SyncRun,
    User,
)
from phr.models.fhir import AuthMode, ConnectionKind
from phr.models.notices import NoticeKind
from phr.models.parties import ProxyScope, Role
from phr.models.records import FhirResourceVersion, RecordDeletion, SyncRunKind, SyncRunStatus
from phr.notices import notify_person
from phr.records.sharing import create_share_link
from tests.conftest import grant_proxy_to, make_citizen, make_user, sign_in
from tests.portal.test_records_fixtures import seed_record

pytestmark = pytest.mark.django_db

MFA_PAGE = "/security/staff-mfa/"
# The flow that gives a staff member a second factor, or lets them leave; the only pages open to them without
# one (allauth's own MFA pages are all named mfa_*). Written out here, not imported, so the test holds the
# middleware to the documented list.
MFA_FLOW = {
    "portal:staff_mfa_required",
    "account_logout",
    "account_reauthenticate",
    "account_email",
    "account_email_verification_sent",
    "account_confirm_email",
    "set_language",
    "javascript-catalog",
    "healthz",
    "readyz",
}
# The hospital API authenticates by bearer token, never by the session: a staff session must open nothing
# there that no session opens.
MACHINE_PREFIXES = ("/api/", "/fhir/", "/.well-known/")
# What a POST by someone who may not change anything can answer: refused, not found, or sent elsewhere; a page
# that only reads may answer it as it answers a GET (the rows counted below show nothing was stored).
REFUSED = {302, 403, 404, 405}
WRITES = [
    FhirResource,
    FhirResourceVersion,
    ResourceIndex,
    SyncRun,
    RecordDeletion,
    Directive,
    ConsentEvent,
    ConsentState,
    Receipt,
    Connection,
    ShareLink,
    Proxy,
    Identifier,
]


@dataclass(frozen=True)
class Route:
    """One URL pattern of the site, with its parameters filled in."""

    name: str
    path: str
    params: frozenset[str]


@dataclass
class World:
    """Everyone and everything the walk needs: alice, what she holds, and the attackers around her."""

    alice: Person
    hospital: Organisation
    staff: User
    onlooker: User
    values: dict[str, str]


def _leaves(resolver: URLResolver, chain: tuple[Any, ...] = (), namespace: str = "") -> Iterator[tuple[Any, ...]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _leaves(entry, (*chain, entry), inner)
        elif isinstance(entry, URLPattern):
            yield (*chain, entry, namespace)


def _value(name: str, converter: object, values: dict[str, str]) -> str:
    if isinstance(converter, IntConverter):
        return "1"
    return values.get(name, "walked")


def routes(values: dict[str, str]) -> list[Route]:
    """Every URL pattern of the site as a concrete path, parameters filled from ``values``."""
    found = []
    for *chain, namespace in _leaves(get_resolver()):
        leaf = chain[-1]
        path, params = "/", set()
        for level in chain:
            pattern = level.pattern
            template, names = normalize(pattern.regex.pattern)[0]
            converters = getattr(pattern, "converters", {})
            params.update(names)
            path += template % {name: _value(name, converters.get(name), values) for name in names}
        name = f"{namespace}{leaf.name}" if leaf.name else f"{namespace}{leaf.pattern}"
        match = resolve(path)
        assert match.func == leaf.callback, f"{name}: {path} resolves to {match.view_name}; add a value that fits"
        found.append(Route(name=name, path=path, params=frozenset(params)))
    return found


def _row_counts(models: list[Any]) -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in models}


def _every_model() -> list[Any]:
    return [*apps.get_app_config("phr").get_models(), *apps.get_app_config("consent").get_models()]


def _bundle() -> SimpleUploadedFile:
    condition = {"resourceType": "Condition", "id": "walked", "code": {"text": "attacker's entry"}}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": condition}]}
    return SimpleUploadedFile("bundle.json", json.dumps(bundle).encode(), content_type="application/fhir+json")


def _form(world: World) -> dict[str, Any]:
    """One body that fills the forms under a person: an upload, a choice, a block, an export, a share link."""
    return {
        "file": _bundle(),
        "version": "1",
        "opted_out": "on",
        "confirm": "on",
        "value": "deny",
        "organisation": str(world.hospital.pk),
        "permission": "GRU",
        "format": "bundle",
        "label": "walked",
        "days": "1",
        "categories": ["allergies"],
        "passcode_choice": "none",
        "scope": "all",
    }


def _link_from(page: str, pattern: str) -> str:
    match = re.search(pattern, page)
    assert match, pattern
    return match.group(1)


@pytest.fixture
def world(client: Client, operator: Organisation, hospital: Organisation) -> World:
    alice = make_citizen("alice@example.test", "佐藤", "花子")
    seed_record(alice)
    staff_person = make_citizen("mallory@example.test", "山田", "守")
    staff = staff_person.user
    assert staff is not None
    services.add_membership(user=staff, organisation=operator, role=Role.CAMPAIGN_MANAGER, actor=None)
    grant_proxy_to(alice, staff, scope=ProxyScope.MANAGE_CONSENT)  # so every page under alice would open
    onlooker = make_user("onlooker@example.test")
    grant_proxy_to(alice, onlooker, scope=ProxyScope.VIEW)
    own_proxy = grant_proxy_to(staff_person, make_user("attorney@example.test"))

    sign_in(client, "alice@example.test")
    client.post("/me/choices/categories/lab_results/commercial_rnd/", {"version": 0, "value": "deny"})
    receipt = Receipt.objects.get(event__person=alice)
    lab_key = _link_from(client.get("/me/records/labs/").content.decode(), r'href="/me/records/labs/([^/"]+)/"')
    client.logout()

    assert hospital.patient_number_system is not None
    services.link_identifier(person=alice, system=hospital.patient_number_system, value="12345678", actor=None)
    backend = FhirEndpoint.objects.create(
        organisation=hospital, name="backend", base_url="https://fhir.hospital.example/r4",
        auth_mode=AuthMode.BACKEND_SERVICES, client_id="mamori",
    )  # fmt: skip
    patient_access = FhirEndpoint.objects.create(
        organisation=hospital, name="patient access", base_url="https://patients.hospital.example/r4",
        auth_mode=AuthMode.SMART_PATIENT, client_id="mamori",
    )  # fmt: skip
    connection = Connection.objects.create(person=alice, endpoint=backend, kind=ConnectionKind.HOSPITAL_AUTHORISED)
    run = SyncRun.objects.create(person=alice, kind=SyncRunKind.UPLOAD, status=SyncRunStatus.SUCCEEDED)
    assert alice.user is not None
    from phr.records import export_jobs

    job = export_jobs.request_export(person=alice, actor=alice.user, fmt="bundle")
    link, token = create_share_link(person=alice, actor=alice.user, label="港診療所", days=1, categories=["allergies"])
    notice = notify_person(staff_person, NoticeKind.EXPORT_READY)
    emergency = make_user("frank@example.test")
    services.add_membership(user=emergency, organisation=operator, role=Role.BREAK_GLASS, actor=None)
    found = break_glass.Found(person=alice, system=hospital.patient_number_system, masked="••••5678")
    grant = break_glass.open_grant(staff=emergency, found=found, reason_category="emergency_care", reason="x" * 40)
    api_client = ApiClient.objects.create(
        organisation=hospital, name="検査システム", jwks_url="https://lab.hospital.example/jwks.json"
    )

    values = {
        "person_id": str(alice.pk),
        "proxy_id": str(own_proxy.pk),
        "receipt_id": str(receipt.pk),
        "run_id": str(run.pk),
        "key": lab_key,
        "resource_id": str(
            ResourceIndex.objects.filter(person=alice, category="documents").values_list("pk", flat=True)[0]
        ),
        "fmt": "bundle",
        "job_id": str(job.pk),
        "link_id": str(link.pk),
        "token": token,
        "endpoint_id": str(patient_access.pk),
        "connection_id": str(connection.pk),
        "category": "lab_results",
        "purpose_class": "commercial_rnd",
        "notice_id": str(notice.pk),
        "grant_id": str(grant.pk),
        "pk": str(api_client.pk),
        "release_id": str(uuid.uuid4()),
        "app_label": "phr",
        "object_id": str(alice.pk),
        "url": "walked/",
        "name": "audit",
    }
    return World(alice=alice, hospital=hospital, staff=staff, onlooker=onlooker, values=values)


def test_a_staff_member_without_a_second_factor_reaches_no_page_and_posts_nothing(world: World) -> None:
    staff, anonymous = Client(), Client()
    sign_in(staff, world.staff.email)  # password only: no factor enrolled, so allauth lets them in
    walked = routes(world.values)
    names = {route.name for route in walked}
    assert {"portal:records_upload_for", "portal:person_choices_opt_out", "portal:staff_link_patient"} <= names
    assert {"admin:index", "mfa_activate_totp", "consent_api:decisions", "fhir_r4:consent-search"} <= names
    before = _row_counts(_every_model())

    for route in walked:
        if route.name in MFA_FLOW or route.name.startswith("mfa_"):
            continue
        for method in ("get", "post"):
            response = getattr(staff, method)(route.path)
            redirected = response.status_code == 302 and response["Location"].startswith(MFA_PAGE)
            if route.path.startswith(MACHINE_PREFIXES):
                same = response.status_code == getattr(anonymous, method)(route.path).status_code
                assert redirected or same, f"{method.upper()} {route.name} ({route.path}): {response.status_code}"
            else:
                assert redirected, f"{method.upper()} {route.name} ({route.path}): {response.status_code}"

    assert _row_counts(_every_model()) == before


def test_a_proxy_who_may_only_view_changes_nothing_under_the_person(world: World) -> None:
    onlooker = Client()
    sign_in(onlooker, world.onlooker.email)
    under_alice = [route for route in routes(world.values) if route.params & {"person_id", "connection_id"}]
    assert len(under_alice) > 20

    accepted = []
    for route in under_alice:
        before = _row_counts(WRITES)
        response = onlooker.post(route.path, _form(world))
        stored = _row_counts(WRITES) != before
        read_as_a_get = response.status_code == 200 and onlooker.get(route.path).status_code == 200
        if stored or not (response.status_code in REFUSED or read_as_a_get):
            accepted.append(f"POST {route.name}: {response.status_code}{', stored' if stored else ''}")

    assert accepted == []
