"""Sign-in: lockout after repeated failures, no account enumeration, password rules at sign-up."""

from __future__ import annotations

import re
from typing import Any

from django.core import mail
from django.test import Client

from phr.models import Person, User
from tests.conftest import PASSWORD


def _fail(client: Client, email: str) -> str:
    response = client.post("/accounts/login/", {"login": email, "password": "wrong password!"})
    assert response.status_code in (200, 429)
    return response.content.decode()


def test_five_failures_lock_the_account_even_for_the_right_password(client: Client, alice: Person) -> None:
    for _ in range(5):
        _fail(client, alice.user.email)
    response = client.post("/accounts/login/", {"login": alice.user.email, "password": PASSWORD})
    assert response.status_code in (200, 429)
    assert "_auth_user_id" not in client.session


def test_a_failure_says_the_same_for_an_unknown_account(client: Client, alice: Person) -> None:
    known = Client().post("/accounts/login/", {"login": alice.user.email, "password": "wrong password!"})
    unknown = Client().post("/accounts/login/", {"login": "nobody@example.test", "password": "wrong password!"})
    assert known.status_code == unknown.status_code == 200

    def page(html: str) -> str:
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
        return html.replace(alice.user.email, "EMAIL").replace("nobody@example.test", "EMAIL")

    assert page(known.content.decode()) == page(unknown.content.decode())


def _signup(client: Client, email: str, password: str) -> Any:
    return client.post(
        "/accounts/signup/",
        {
            "email": email,
            "password1": password,
            "password2": password,
            "family_name": "田中",
            "given_name": "美咲",
            "birth_date": "1990-02-03",
        },
    )


def test_sign_up_refuses_short_and_common_passwords(client: Client, db) -> None:
    assert _signup(client, "new@example.test", "ab12cd").status_code == 200
    assert _signup(client, "new@example.test", "password123").status_code == 200
    assert not User.objects.filter(email="new@example.test").exists()


def test_sign_up_creates_the_person_and_sends_a_verification_email(client: Client, db, settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = _signup(client, "misaki@example.test", "kiri-no-naka-de-29")
    assert response.status_code == 302
    user = User.objects.get(email="misaki@example.test")
    assert user.person.family_name == "田中"
    assert len(mail.outbox) == 1 and "misaki@example.test" in mail.outbox[0].to
    # mandatory verification: not signed in until the address is confirmed
    assert client.get("/me/").status_code == 302


def test_signing_up_with_an_existing_address_does_not_reveal_it(client: Client, alice: Person, settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = _signup(client, alice.user.email, "kiri-no-naka-de-29")
    assert response.status_code == 302  # the same "check your email" as for a new address
    assert User.objects.filter(email=alice.user.email).count() == 1
