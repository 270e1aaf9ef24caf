"""Shared fixtures: named personas (alice, bob, carol, dave the reviewer) and real sign-in flows."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.db import connection
from django.test import Client

from phr import services
from phr.models import Organisation, Person, Proxy, User
from phr.models.parties import LegalBasis, OrganisationKind, ProxyScope, Role

PASSWORD = "correct horse battery staple"
TOTP_SECRET = "JBSWY3DPEHPK3PXPTESTSECRETAAAAAA"


def requires_postgres() -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL: set DATABASE_URL=postgresql://..."
    )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_user(email: str) -> User:
    user = User.objects.create_user(email=email, password=PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def grant_proxy_to(
    person: Person,
    user: User | None,
    *,
    scope: str = ProxyScope.VIEW,
    basis: str = LegalBasis.ATTORNEY,
    evidence: str = "委任状を確認 (power of attorney checked)",
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> Proxy:
    """Record that ``user`` may act for ``person``, as an operator would after checking the evidence."""
    assert user is not None
    return services.grant_proxy(
        person=person,
        proxy_user=user,
        scope=scope,
        legal_basis=basis,
        evidence=evidence,
        actor=None,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def make_citizen(email: str, family: str, given: str, birth: date = date(1980, 4, 1)) -> Person:
    user = make_user(email)
    return services.create_person(user=user, family_name=family, given_name=given, birth_date=birth)


@pytest.fixture
def alice(db) -> Person:
    return make_citizen("alice@example.test", "佐藤", "花子")


@pytest.fixture
def bob(db) -> Person:
    return make_citizen("bob@example.test", "鈴木", "一郎", date(1975, 6, 30))


@pytest.fixture
def carol(db) -> User:
    """A user with no person record of her own: a parent or an attorney."""
    return make_user("carol@example.test")


@pytest.fixture
def operator(db) -> Organisation:
    return services.create_organisation(name="運営機構", kind=OrganisationKind.PUBLIC, actor=None, is_operator=True)


@pytest.fixture
def hospital(db) -> Organisation:
    return services.create_organisation(
        name="東都大学病院", kind=OrganisationKind.HOSPITAL, actor=None, patient_number_system="urn:oid:1.2.392.1"
    )


@pytest.fixture
def dave(operator: Organisation) -> User:
    """A reviewer on the operator's data access committee, with TOTP enrolled."""
    user = make_user("dave@example.test")
    services.add_membership(user=user, organisation=operator, role=Role.REVIEWER, actor=None)
    TOTP.activate(user, TOTP_SECRET)
    return user


@pytest.fixture
def erin(operator: Organisation) -> User:
    """An operator administrator with TOTP enrolled (is_staff for the Django admin)."""
    user = make_user("erin@example.test")
    services.add_membership(user=user, organisation=operator, role=Role.OPERATOR_ADMIN, actor=None)
    TOTP.activate(user, TOTP_SECRET)
    return user


def totp_code(secret: str = TOTP_SECRET, *, margin: float = 3.0) -> str:
    """The current TOTP code, taken at least ``margin`` seconds before its 30-second window closes.

    A code read just before a window turns over could reach the server just after it; waiting out the
    last seconds of a window keeps sign-in tests from depending on when they happen to run.
    """
    import time

    remaining = 30 - time.time() % 30
    if remaining < margin:
        time.sleep(remaining + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def sign_in(client: Client, email: str, password: str = PASSWORD) -> str:
    """Sign in through allauth's login form; returns where it redirected."""
    response = client.post("/accounts/login/", {"login": email, "password": password})
    assert response.status_code == 302, response.content[:500]
    return str(response["Location"])


def sign_in_with_totp(client: Client, email: str) -> None:
    location = sign_in(client, email)
    assert location.startswith("/accounts/2fa/authenticate"), location
    response = client.post(location, {"code": totp_code()})
    assert response.status_code == 302, response.content[:500]


@pytest.fixture(autouse=True)
def _clear_cache(request: pytest.FixtureRequest, settings):
    """Rate limits and used TOTP codes live in the cache. A Redis cache outlives every test; the database
    cache outlives transactional tests (flush leaves its table alone). Clear both after such tests."""
    yield
    from django.core.cache import cache

    transactional = {"transactional_db", "live_server"} & set(request.fixturenames)
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache") or transactional:
        cache.clear()


@pytest.fixture(autouse=True)
def _clear_process_caches():
    """The API keeps verified tokens, regimes, projects and rate-limit counts per process for a few seconds; a
    test's rolled-back rows or cleared cache must not leak into the next test from there."""
    from consent.api.auth import token_cache
    from consent.api.throttle import window_counter
    from consent.reference import clear_reference_cache

    token_cache.clear()
    window_counter.clear()
    clear_reference_cache()
