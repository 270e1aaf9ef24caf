"""Idempotent demo seeding: running it twice changes nothing the second time."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.db import transaction

from phr import services
from phr.demo import data
from phr.demo.fhir import seed_fhir
from phr.models import Organisation, Person, Proxy, User
from phr.models.parties import LegalBasis, OrganisationKind, ProxyScope, Role
from phr.selectors import person_by_identifier

CITIZENS = 50


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str) -> None:
        self.created[kind] = self.created.get(kind, 0) + 1


def _user(email: str, report: SeedReport, *, mfa: bool = False) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=data.DEMO_PASSWORD)
        report.count("users")
    EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    if mfa and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, data.DEMO_TOTP_SECRET)
        RecoveryCodes.activate(user)
    return user


def _organisation(name: str, name_en: str, kind: str, report: SeedReport, **extra: object) -> Organisation:
    organisation = Organisation.objects.filter(name=name).first()
    if organisation is None:
        organisation = services.create_organisation(name=name, name_en=name_en, kind=kind, actor=None, **extra)  # type: ignore[arg-type]
        report.count("organisations")
    return organisation


def _member(email: str, organisation: Organisation, role: str, report: SeedReport) -> User:
    user = _user(email, report, mfa=True)
    if not user.memberships.filter(organisation=organisation, role=role).exists():
        services.add_membership(user=user, organisation=organisation, role=role, actor=None)
        report.count("memberships")
    return user


def _linkage_id(number: int) -> str:
    return f"MMR{number:07d}"


def _citizen(
    number: int, rng: random.Random, hospitals: list[Organisation], report: SeedReport, *, with_login: bool = True
) -> Person:
    existing = person_by_identifier(settings.MAMORI_LINKAGE_SYSTEM, _linkage_id(number))
    if existing is not None:
        return existing
    family, family_kana = data.FAMILY_NAMES[number % len(data.FAMILY_NAMES)]
    given, given_kana, sex = data.GIVEN_NAMES[(number * 7) % len(data.GIVEN_NAMES)]
    birth = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 66))
    user = _user(f"citizen{number:02d}@{data.EMAIL_DOMAIN}", report) if with_login else None
    person = services.create_person(
        user=user,
        family_name=family,
        given_name=given,
        family_name_kana=family_kana,
        given_name_kana=given_kana,
        birth_date=birth,
        sex=sex,
        prefecture=f"{rng.randrange(1, 48):02d}",
        actor=None,
    )
    services.link_identifier(
        person=person, system=settings.MAMORI_LINKAGE_SYSTEM, value=_linkage_id(number), actor=None
    )
    for hospital in rng.sample(hospitals, rng.randint(1, 3)):
        patient_number = f"{rng.randrange(10_000_000, 99_999_999)}"
        services.link_identifier(
            person=person, system=hospital.patient_number_system or "", value=patient_number, actor=None
        )
    report.count("citizens")
    return person


def _special_person(
    number: int,
    *,
    family: tuple[str, str],
    given: tuple[str, str, str],
    birth: date,
    hospitals: list[Organisation],
    report: SeedReport,
) -> Person:
    """A child or an elder: no login of their own; someone acts for them."""
    existing = person_by_identifier(settings.MAMORI_LINKAGE_SYSTEM, _linkage_id(number))
    if existing is not None:
        return existing
    person = services.create_person(
        family_name=family[0],
        family_name_kana=family[1],
        given_name=given[0],
        given_name_kana=given[1],
        sex=given[2],
        birth_date=birth,
        prefecture="13",
        actor=None,
    )
    services.link_identifier(
        person=person, system=settings.MAMORI_LINKAGE_SYSTEM, value=_linkage_id(number), actor=None
    )
    services.link_identifier(
        person=person, system=hospitals[0].patient_number_system or "", value=f"{80_000_000 + number}", actor=None
    )
    report.count("citizens")
    return person


def _proxy(person: Person, proxy_user: User, *, scope: str, basis: str, evidence: str, report: SeedReport) -> None:
    if Proxy.objects.active().filter(person=person, proxy_user=proxy_user).exists():
        return
    services.grant_proxy(
        person=person, proxy_user=proxy_user, scope=scope, legal_basis=basis, evidence=evidence, actor=None
    )
    report.count("proxies")


@transaction.atomic
def seed_demo() -> SeedReport:
    report = SeedReport()
    rng = random.Random(20261121)
    hospitals = [
        _organisation(name, en, OrganisationKind.HOSPITAL, report, patient_number_system=system)
        for name, en, system in data.HOSPITALS
    ]
    university = _organisation(*data.UNIVERSITY, OrganisationKind.ACADEMIC, report)
    pharma = _organisation(*data.PHARMA, OrganisationKind.COMMERCIAL, report)
    operator = _organisation(*data.PUBLIC_BODY, OrganisationKind.PUBLIC, report, is_operator=True)

    domain = data.EMAIL_DOMAIN
    _member(f"reviewer@{domain}", operator, Role.REVIEWER, report)
    _member(f"campaigns@{domain}", operator, Role.CAMPAIGN_MANAGER, report)
    _member(f"admin@{domain}", operator, Role.OPERATOR_ADMIN, report)
    _member(f"researcher@{domain}", university, Role.RESEARCHER, report)
    _member(f"rd@{domain}", pharma, Role.RESEARCHER, report)
    for index, hospital in enumerate(hospitals, start=1):
        _member(f"hospital{index}-admin@{domain}", hospital, Role.ORG_ADMIN, report)

    citizens = [_citizen(number, rng, hospitals, report) for number in range(1, CITIZENS - 1)]
    today = date.today()
    child = _special_person(
        CITIZENS - 1,
        family=data.FAMILY_NAMES[1],
        given=("陽向", "ヒナタ", "male"),
        birth=today.replace(year=today.year - 8, day=1),
        hospitals=hospitals,
        report=report,
    )
    elder = _special_person(
        CITIZENS,
        family=data.FAMILY_NAMES[4],
        given=("トメ", "トメ", "female"),
        birth=date(1936, 5, 5),
        hospitals=hospitals,
        report=report,
    )
    parent_user = citizens[0].user
    assert parent_user is not None
    _proxy(
        child,
        parent_user,
        scope=ProxyScope.MANAGE_CONSENT,
        basis=LegalBasis.PARENTAL,
        evidence="戸籍謄本で親子関係を確認 (family register checked at the counter)",
        report=report,
    )
    attorney = _user(f"attorney@{domain}", report)
    _proxy(
        elder,
        attorney,
        scope=ProxyScope.MANAGE_CONSENT,
        basis=LegalBasis.ATTORNEY,
        evidence="公正証書による任意代理契約を確認 (notarised power of attorney checked)",
        report=report,
    )
    seed_fhir(hospitals, report)
    return report
