"""Builders for engine tests without a database: default regimes, requests, states and notices."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from consent.duo.terms import ConsentTerms, ResearchPurpose
from consent.engine import (
    ConsentSnapshot,
    DecisionRequest,
    NoticeFact,
    ProjectFacts,
    RegimeRule,
    RegimeTable,
    parse_state,
)
from tests.consent.duo_factories import purpose as duo_purpose

START = datetime(2025, 12, 31, 15, 0, tzinfo=UTC)
AT = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
PROJECT = "11111111-1111-1111-1111-111111111111"
UNIVERSITY = "22222222-2222-2222-2222-222222222222"
HOSPITAL = "33333333-3333-3333-3333-333333333333"

# The seeded defaults (consent/migrations/0002_seed_default_regimes.py).
DEFAULTS = [
    ("primary_care", 1, "opt_out", 0, True, False),
    ("primary_care", 2, "opt_out", 0, True, False),
    ("primary_care", 3, "opt_in", 0, False, False),
    ("academic_research", 1, "opt_out", 30, False, False),
    ("academic_research", 2, "opt_out", 30, False, False),
    ("academic_research", 3, "opt_in", 0, False, False),
    ("commercial_rnd", 1, "opt_out", 30, False, True),
    ("commercial_rnd", 2, "opt_out", 30, False, True),
    ("commercial_rnd", 3, "opt_in", 0, False, False),
    ("public_health", 1, "statutory", 0, False, False),
    ("public_health", 2, "statutory", 0, False, False),
    ("public_health", 3, "statutory", 0, False, False),
]


def regimes(**overrides: str) -> RegimeTable:
    """The default table; ``academic_research_1="prohibited"`` changes one cell's basis."""
    rules = []
    for index, (purpose_class, tier, basis, window, by_publication, commercial) in enumerate(DEFAULTS, start=1):
        basis = overrides.get(f"{purpose_class}_{tier}", basis)
        rules.append(
            RegimeRule(
                id=index,
                purpose_class=purpose_class,
                tier=tier,
                version=1,
                basis=basis,
                window_days=window if basis == "opt_out" else 0,
                notice_by_publication=by_publication,
                notice_must_state_commercial_use=commercial,
                effective_from=START,
                effective_to=None,
            )
        )
    return RegimeTable(rules)


REGIMES = regimes()


def regime_id(purpose_class: str, tier: int) -> int:
    return next(i for i, row in enumerate(DEFAULTS, start=1) if row[:2] == (purpose_class, tier))


def project(**fields: Any) -> ProjectFacts:
    values: dict[str, Any] = {
        "id": PROJECT,
        "organisation_id": UNIVERSITY,
        "approved": True,
        "period_start": date(2026, 1, 1),
        "period_end": date(2028, 12, 31),
    }
    values.update(fields)
    return ProjectFacts(**values)


def request(
    categories: Iterable[str] = ("diagnoses",),
    *,
    purpose_class: str = "academic_research",
    with_project: bool = True,
    purpose: ResearchPurpose | str | None = "default",
    table: RegimeTable = REGIMES,
    **project_fields: Any,
) -> DecisionRequest:
    facts = project(**project_fields) if with_project else None
    if purpose == "default":
        purpose = duo_purpose("DS", commercial=purpose_class == "commercial_rnd")
    assert not isinstance(purpose, str)
    return DecisionRequest(
        purpose_class=purpose_class,
        categories=tuple(categories),
        regimes=table,
        organisation_id=facts.organisation_id if facts else UNIVERSITY,
        project=facts,
        purpose=purpose,
    )


def at(days: float = 0) -> str:
    return (AT + timedelta(days=days)).isoformat()


def opt_out(days: float = -10) -> dict[str, Any]:
    return {"kind": "global_opt_out", "at": at(days)}


def category(
    value: str, category: str = "", purpose_class: str = "academic_research", days: float = -5
) -> dict[str, Any]:
    return {"kind": "category", "value": value, "category": category, "purpose_class": purpose_class, "at": at(days)}


def block(organisation: str = UNIVERSITY, purpose_class: str = "", days: float = -5) -> dict[str, Any]:
    return {"kind": "organisation_block", "organisation": organisation, "purpose_class": purpose_class, "at": at(days)}


def accept(categories: Iterable[str] = ("diagnoses",), days: float = -3, value: str = "permit") -> dict[str, Any]:
    return {"kind": "project", "project": PROJECT, "value": value, "categories": list(categories), "at": at(days)}


def decline(days: float = -3) -> dict[str, Any]:
    return accept(("diagnoses", "lab_results", "prescriptions"), days, "deny")


def duo(terms: Mapping[str, Any], days: float = -20) -> dict[str, Any]:
    return {"kind": "duo_terms", "terms": dict(terms), "at": at(days)}


def notified(
    days_before: float = 60, *, commercial: bool = False, key: str | None = None
) -> dict[str, tuple[NoticeFact, ...]]:
    return {key or f"project:{PROJECT}": (NoticeFact(AT - timedelta(days=days_before), commercial),)}


def state(
    *entries: Mapping[str, Any],
    notices: Mapping[str, tuple[NoticeFact, ...]] | None = None,
    terms: tuple[ConsentTerms, ...] | None = None,
    version: int = 3,
) -> ConsentSnapshot:
    directives = parse_state([dict(e) for e in entries])
    if terms is not None:
        directives = replace(directives, terms=terms)
    return ConsentSnapshot("p-1", version, directives, notices if notices is not None else notified())
