"""Sessions end after idle time and after an absolute lifetime; sensitive actions ask again."""

from __future__ import annotations

import time
from datetime import timedelta

from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from phr.models import Person, User
from phr.signals import SESSION_STARTED_KEY
from tests.conftest import PASSWORD, grant_proxy_to, sign_in


def test_a_session_older_than_the_absolute_limit_ends(client: Client, alice: Person, settings) -> None:
    sign_in(client, alice.user.email)
    assert client.get("/me/").status_code == 200
    session = client.session
    session[SESSION_STARTED_KEY] = int(time.time()) - settings.MAMORI_SESSION_ABSOLUTE_SECONDS - 1
    session.save()
    response = client.get("/me/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/me/").status_code == 302


def test_an_idle_session_expires(client: Client, alice: Person) -> None:
    sign_in(client, alice.user.email)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/me/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_each_request_extends_the_idle_deadline(client: Client, alice: Person, settings) -> None:
    sign_in(client, alice.user.email)
    Session.objects.update(expire_date=timezone.now() + timedelta(seconds=5))
    client.get("/me/")
    deadline = Session.objects.get().expire_date
    assert deadline > timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)


def test_revoking_a_proxy_asks_for_the_password_again(client: Client, alice: Person, carol: User, settings) -> None:
    proxy = grant_proxy_to(alice, carol)
    sign_in(client, alice.user.email)
    session = client.session
    for record in session["account_authentication_methods"]:
        record["at"] -= settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 1
    session.save()
    response = client.post(f"/me/proxies/{proxy.pk}/revoke/")
    assert response.status_code == 302 and "/accounts/reauthenticate/" in response["Location"]
    proxy.refresh_from_db()
    assert proxy.revoked_at is None

    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    response = client.post(f"/me/proxies/{proxy.pk}/revoke/")
    assert response.status_code == 302
    proxy.refresh_from_db()
    assert proxy.revoked_at is not None


def test_nobody_revokes_a_proxy_on_someone_elses_record(
    client: Client, alice: Person, bob: Person, carol: User
) -> None:
    proxy = grant_proxy_to(alice, carol)
    sign_in(client, bob.user.email)
    assert client.post(f"/me/proxies/{proxy.pk}/revoke/").status_code == 404
    proxy.refresh_from_db()
    assert proxy.revoked_at is None
