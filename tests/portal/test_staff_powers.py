"""Staff powers through the pages: a view-only proxy reads and never writes; staff pages ask the role policy,
so a role held somewhere else, or a superuser flag, opens nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from consent.api_clients import register_client
from phr import services
from phr.models import AuditEvent, Organisation, Person, Proxy, SyncRun, User
from phr.models.parties import LegalBasis, OrganisationKind, ProxyScope, Role
from tests.conftest import grant_proxy_to, make_user, sign_in, sign_in_with_totp
from tests.phr.records.conftest import PATIENT, bundle

HTML: dict[str, Any] = {"HTTP_ACCEPT": "text/html"}


@pytest.fixture(autouse=True)
def _private_var_dir(settings, tmp_path) -> None:
    settings.VAR_DIR = tmp_path


def _upload(client: Client, person: Person) -> Any:
    data = bundle(PATIENT)
    return client.post(
        f"/people/{person.pk}/records/upload/",
        {"file": SimpleUploadedFile("records.json", data, content_type="application/fhir+json")},
        **HTML,
    )


def test_a_view_only_proxy_cannot_upload_into_the_persons_record(
    client: Client, alice: Person, carol: User, tmp_path
) -> None:
    grant_proxy_to(alice, carol, scope=ProxyScope.VIEW)
    sign_in(client, carol.email)

    page = client.get(f"/people/{alice.pk}/records/upload/")
    attempt = _upload(client, alice)

    assert page.status_code == attempt.status_code == 404
    assert not SyncRun.objects.filter(person=alice).exists()
    assert not [path for path in tmp_path.rglob("*") if path.is_file()]
    assert not AuditEvent.objects.filter(actor=carol, action="records.uploaded_for_person").exists()


def test_a_proxy_who_manages_uploads_for_the_person(client: Client, alice: Person, carol: User) -> None:
    grant_proxy_to(alice, carol, scope=ProxyScope.MANAGE_CONSENT)
    sign_in(client, carol.email)

    response = _upload(client, alice)

    assert response.status_code == 302
    run = SyncRun.objects.get(person=alice)
    assert AuditEvent.objects.filter(actor=carol, person=alice, action="records.uploaded_for_person").exists()
    assert client.get(f"/me/records/uploads/{run.pk}/").status_code == 200


def test_a_view_only_proxy_still_reads_the_upload_report(client: Client, alice: Person, carol: User) -> None:
    sign_in(client, alice.user.email)
    _upload(client, alice)
    run = SyncRun.objects.get(person=alice)
    grant_proxy_to(alice, carol, scope=ProxyScope.VIEW)
    client.logout()
    sign_in(client, carol.email)

    assert client.get(f"/me/records/uploads/{run.pk}/").status_code == 200


def test_a_superuser_without_a_role_finds_every_staff_page_closed(client: Client, db) -> None:
    from allauth.mfa.totp.internal.auth import TOTP

    from tests.conftest import TOTP_SECRET

    root = make_user("root@example.test")
    services.set_superuser(user=root, superuser=True, reason="incident 42", run_by="test")
    TOTP.activate(root, TOTP_SECRET)
    sign_in_with_totp(client, root.email)

    for path in (
        "/staff/proxies/new/",
        "/staff/regimes/",
        "/staff/break-glass/",
        "/staff/break-glass/review/",
        "/staff/connections/link/",
        "/staff/api-clients/",
    ):
        assert client.get(path).status_code == 403, path


def test_a_reviewer_cannot_record_a_proxy_through_the_staff_page(
    client: Client, dave: User, alice: Person, carol: User
) -> None:
    sign_in_with_totp(client, dave.email)

    response = client.post(
        "/staff/proxies/new/",
        {
            "person": alice.pk,
            "proxy_email": carol.email,
            "scope": ProxyScope.MANAGE_CONSENT,
            "legal_basis": LegalBasis.ATTORNEY,
            "evidence": "委任状",
        },
    )

    assert response.status_code == 403
    assert not Proxy.objects.exists()


def test_a_hospital_administrator_links_patients_but_records_no_proxy(client: Client, hospital: Organisation) -> None:
    from allauth.mfa.totp.internal.auth import TOTP

    from tests.conftest import TOTP_SECRET

    frank = make_user("frank@example.test")
    services.add_membership(user=frank, organisation=hospital, role=Role.ORG_ADMIN, actor=None)
    TOTP.activate(frank, TOTP_SECRET)
    sign_in_with_totp(client, frank.email)

    assert client.get("/staff/connections/link/").status_code == 200
    assert client.get("/staff/proxies/new/").status_code == 403
    assert client.get("/staff/regimes/").status_code == 403


def test_the_operator_administrator_sees_and_revokes_any_hospitals_api_client(
    client: Client, erin: User, hospital: Organisation, settings
) -> None:
    other = services.create_organisation(name="西都病院", kind=OrganisationKind.HOSPITAL, actor=None)
    ours, _ = register_client(
        organisation=hospital, actor=None, name="EHR-A", allowed_scopes=["consent.check"], with_secret=True
    )
    theirs, _ = register_client(
        organisation=other, actor=None, name="EHR-B", allowed_scopes=["consent.check"], with_secret=True
    )
    sign_in_with_totp(client, erin.email)

    listing = client.get("/staff/api-clients/").content.decode()

    assert "EHR-A" in listing and "EHR-B" in listing
    assert ours.pk != theirs.pk
