"""Sign-in lockout holds per account and per address, and one address cannot lock other people out.

The rules (MAMORI_LOGIN_FAILED_LIMIT, default ``100/15m/ip,5/15m/key``): an address may fail 100 sign-ins in
15 minutes, across all accounts (credential stuffing); an account may fail 5 in 15 minutes, from all
addresses (password guessing). Behind a proxy the address is taken from X-Forwarded-For only as far as
MAMORI_TRUSTED_PROXY_COUNT says.
"""

from __future__ import annotations

import pytest
from django.test import Client

from phr.models import Person
from tests.conftest import PASSWORD, make_user

WRONG = "wrong password!"


def _sign_in(email: str, password: str, **meta: str) -> bool:
    client = Client()
    client.post("/accounts/login/", {"login": email, "password": password}, **meta)  # type: ignore[arg-type]
    return "_auth_user_id" in client.session


@pytest.fixture
def trust_one_proxy(settings) -> None:
    """What MAMORI_TRUSTED_PROXY_COUNT=1 sets: allauth's and DRF's proxy count."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


def test_thirty_failed_sign_ins_for_one_account_do_not_stop_another_person_at_the_same_address(
    alice: Person, bob: Person
) -> None:
    for _ in range(30):
        assert not _sign_in(alice.user.email, WRONG, REMOTE_ADDR="198.51.100.7")

    assert _sign_in(bob.user.email, PASSWORD, REMOTE_ADDR="198.51.100.7")


def test_one_address_may_fail_a_hundred_sign_ins_before_it_is_refused_and_then_only_there(db, bob: Person) -> None:
    victims = [make_user(f"user{n}@example.test").email for n in range(25)]
    for n in range(60):
        _sign_in(victims[n % len(victims)], f"leaked-{n}", REMOTE_ADDR="198.51.100.7")
    assert _sign_in(bob.user.email, PASSWORD, REMOTE_ADDR="198.51.100.7")

    for n in range(60, 100):
        _sign_in(victims[n % len(victims)], f"leaked-{n}", REMOTE_ADDR="198.51.100.7")

    assert not _sign_in(bob.user.email, PASSWORD, REMOTE_ADDR="198.51.100.7")
    assert _sign_in(bob.user.email, PASSWORD, REMOTE_ADDR="203.0.113.20")
    assert _sign_in(victims[0], PASSWORD, REMOTE_ADDR="203.0.113.20")


def test_behind_a_trusted_proxy_an_attacker_does_not_lock_out_the_other_people_the_proxy_serves(
    settings, trust_one_proxy: None, bob: Person
) -> None:
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "10/15m/ip,5/15m/key"}
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for n in range(10):
        _sign_in(f"nobody{n}@example.test", WRONG, **proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")

    # The attacker's own address stays refused, even with an address of their choosing in front of it.
    assert not _sign_in(bob.user.email, PASSWORD, **proxy, HTTP_X_FORWARDED_FOR="203.0.113.20, 198.51.100.7")
    assert _sign_in(bob.user.email, PASSWORD, **proxy, HTTP_X_FORWARDED_FOR="203.0.113.20")
