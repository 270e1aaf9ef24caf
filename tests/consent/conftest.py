"""Consent fixtures: a university, a company, approved projects, and helpers for notices and regimes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from consent.models import Notice, NoticeChannel, NoticeStatus, ProcessingMode, Project, ProjectStatus, PurposeClass
from phr import services as phr_services
from phr.models import Organisation, Person, User
from phr.models.parties import OrganisationKind, ProxyScope
from tests.conftest import grant_proxy_to, make_user

ACADEMIC_PURPOSE: dict[str, Any] = {
    "type": "DS",
    "diseases": ["C34"],
    "commercial": False,
    "for_profit": False,
    "genetic": False,
    "ethics_approval": True,
    "publication": True,
    "returns_data": False,
    "regions": ["JP"],
}


@pytest.fixture
def university(db) -> Organisation:
    return phr_services.create_organisation(name="東都大学", kind=OrganisationKind.ACADEMIC, actor=None)


@pytest.fixture
def company(db) -> Organisation:
    return phr_services.create_organisation(name="大和製薬", kind=OrganisationKind.COMMERCIAL, actor=None)


def make_project(organisation: Organisation, **fields: Any) -> Project:
    commercial = fields.get("purpose_class") == PurposeClass.COMMERCIAL_RND
    purpose = {**ACADEMIC_PURPOSE, "commercial": commercial, "for_profit": commercial}
    values: dict[str, Any] = {
        "organisation": organisation,
        "title_ja": "肺がんの研究",
        "title_en": "Lung cancer study",
        "summary_ja": "肺がんの治療成績を調べます。",
        "summary_en": "We study lung cancer outcomes.",
        "purpose_class": PurposeClass.ACADEMIC_RESEARCH,
        "duo_purpose": purpose,
        "data_categories": ["diagnoses", "lab_results", "prescriptions"],
        "commercial": commercial,
        "ethics_approval": True,
        "publication_commitment": True,
        "regions": ["JP"],
        "period_start": date(2026, 1, 1),
        "period_end": date(2028, 12, 31),
        "processing_mode": ProcessingMode.TRE,
        "status": ProjectStatus.APPROVED,
    }
    values.update(fields)
    project = Project(**values)
    project.full_clean()
    project.save()
    return project


@pytest.fixture
def study(university: Organisation) -> Project:
    """An approved academic lung-cancer study asking for diagnoses, lab results and prescriptions."""
    return make_project(university)


@pytest.fixture
def trial(company: Organisation) -> Project:
    """An approved commercial R&D project."""
    return make_project(company, purpose_class=PurposeClass.COMMERCIAL_RND, title_ja="新薬の開発")


def notify(person: Person, project: Project, *, at: datetime, commercial: bool = False) -> Notice:
    return Notice.objects.create(
        person=person,
        project=project,
        channel=NoticeChannel.EMAIL,
        status=NoticeStatus.DELIVERED,
        delivered_at=at,
        states_commercial_use=commercial,
    )


def long_ago() -> datetime:
    return timezone.now() - timedelta(days=90)


@pytest.fixture
def parent(carol: User, alice: Person) -> User:
    """Carol as alice's attorney with the manage-consent scope."""
    grant_proxy_to(alice, carol, scope=ProxyScope.MANAGE_CONSENT)
    return carol


@pytest.fixture
def viewer(alice: Person) -> User:
    """A proxy of alice who may only view records."""
    user = make_user("viewer@example.test")
    grant_proxy_to(alice, user)
    return user
