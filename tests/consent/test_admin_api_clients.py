"""The operator sees every organisation's API clients in the admin, never a secret, and changes none there:
revoking in an incident is done on the staff page, through the service that audits it."""

from __future__ import annotations

from django.test import Client

from consent.api_clients import issue_token, register_client
from consent.models import AccessToken, ApiClient
from phr.models import AuditEvent, Organisation, User
from tests.conftest import PASSWORD, sign_in_with_totp


def test_an_operator_lists_clients_without_secrets(client: Client, erin: User, hospital: Organisation) -> None:
    api_client, secret = register_client(
        organisation=hospital, actor=None, name="電子カルテ", allowed_scopes=["consent.check"], with_secret=True
    )
    sign_in_with_totp(client, erin.email)

    listing = client.get("/admin/consent/apiclient/")
    detail = client.get(f"/admin/consent/apiclient/{api_client.pk}/change/")

    assert listing.status_code == detail.status_code == 200
    assert api_client.client_id in listing.content.decode()
    assert secret is not None and api_client.secret_hash is not None
    for page in (listing, detail):
        assert secret not in page.content.decode()
        assert api_client.secret_hash not in page.content.decode()


def test_the_admin_cannot_add_edit_or_revoke_a_client(client: Client, erin: User, hospital: Organisation) -> None:
    api_client, _ = register_client(
        organisation=hospital, actor=None, name="EHR", allowed_scopes=["consent.check"], with_secret=True
    )
    sign_in_with_totp(client, erin.email)

    assert client.get("/admin/consent/apiclient/add/").status_code == 403
    client.post(f"/admin/consent/apiclient/{api_client.pk}/change/", {"name": "renamed"})
    client.post("/admin/consent/apiclient/", {"action": "revoke", "_selected_action": [str(api_client.pk)]})

    api_client.refresh_from_db()
    assert (api_client.name, api_client.revoked_at) == ("EHR", None)


def test_the_operator_revokes_a_hospitals_client_on_the_staff_page_with_an_audit_event(
    client: Client, erin: User, hospital: Organisation
) -> None:
    api_client, _ = register_client(
        organisation=hospital, actor=None, name="EHR", allowed_scopes=["consent.check"], with_secret=True
    )
    issue_token(client=api_client, scopes=["consent.check"])
    sign_in_with_totp(client, erin.email)
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302

    response = client.post(f"/staff/api-clients/{api_client.pk}/revoke/")

    assert response.status_code == 302
    assert ApiClient.objects.get(pk=api_client.pk).revoked_at is not None
    assert not AccessToken.objects.filter(client=api_client).exists()
    assert AuditEvent.objects.filter(action="api_client.revoked", actor=erin).count() == 1
