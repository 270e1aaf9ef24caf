"""Proxies act only within their scope and period; an expired or revoked proxy can do nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.http import Http404
from django.utils import timezone, translation

from phr import services
from phr.access import person_for_user
from phr.errors import ProxyNotAllowed
from phr.models import AuditEvent, Person, User
from phr.models.parties import LegalBasis, ProxyScope
from tests.conftest import grant_proxy_to


def test_an_active_proxy_reaches_the_person(alice: Person, carol: User) -> None:
    grant_proxy_to(alice, carol)
    assert person_for_user(carol, alice.pk) == alice


def test_a_proxy_cannot_exceed_its_scope(alice: Person, carol: User) -> None:
    grant_proxy_to(alice, carol, scope=ProxyScope.VIEW)
    with pytest.raises(Http404):
        person_for_user(carol, alice.pk, scope=ProxyScope.MANAGE_CONSENT)


def test_a_consent_managing_proxy_may_also_view(alice: Person, carol: User) -> None:
    grant_proxy_to(alice, carol, scope=ProxyScope.MANAGE_CONSENT)
    assert person_for_user(carol, alice.pk, scope=ProxyScope.VIEW) == alice


def test_an_expired_proxy_can_do_nothing(alice: Person, carol: User) -> None:
    now = timezone.now()
    grant_proxy_to(alice, carol, valid_from=now - timedelta(days=30), valid_until=now - timedelta(seconds=1))
    with pytest.raises(Http404):
        person_for_user(carol, alice.pk)


def test_a_proxy_that_has_not_started_can_do_nothing(alice: Person, carol: User) -> None:
    grant_proxy_to(alice, carol, valid_from=timezone.now() + timedelta(days=1))
    with pytest.raises(Http404):
        person_for_user(carol, alice.pk)


def test_a_revoked_proxy_can_do_nothing(alice: Person, carol: User) -> None:
    proxy = grant_proxy_to(alice, carol)
    assert alice.user is not None
    services.revoke_proxy(proxy=proxy, actor=alice.user)
    with pytest.raises(Http404):
        person_for_user(carol, alice.pk)
    assert AuditEvent.objects.filter(person=alice, action="proxy.revoked").count() == 1


def test_a_stranger_gets_not_found_for_someone_else(alice: Person, bob: Person) -> None:
    assert bob.user is not None
    with pytest.raises(Http404):
        person_for_user(bob.user, alice.pk)
    with pytest.raises(Http404):
        person_for_user(bob.user, "not-a-uuid")


def test_parental_authority_ends_at_the_sixteenth_birthday(carol: User) -> None:
    today = timezone.localdate()
    child = services.create_person(family_name="佐藤", given_name="陽向", birth_date=date(today.year - 10, 1, 15))
    proxy = grant_proxy_to(child, carol, basis=LegalBasis.PARENTAL)
    assert timezone.localtime(proxy.valid_until).date() == date(today.year + 6, 1, 15)


def test_parental_authority_is_refused_for_a_sixteen_year_old(carol: User) -> None:
    today = timezone.localdate()
    teen = services.create_person(family_name="佐藤", given_name="蓮", birth_date=date(today.year - 17, 1, 1))
    with translation.override("en"), pytest.raises(ProxyNotAllowed, match="under 16"):
        grant_proxy_to(teen, carol, basis=LegalBasis.PARENTAL)


def test_nobody_is_their_own_proxy(alice: Person) -> None:
    with pytest.raises(ProxyNotAllowed):
        grant_proxy_to(alice, alice.user)


def test_a_proxy_needs_recorded_evidence(alice: Person, carol: User) -> None:
    with pytest.raises(ProxyNotAllowed, match="確認した書類"):  # Japanese by default
        grant_proxy_to(alice, carol, evidence="  ")
