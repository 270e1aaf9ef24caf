"""Builders for DUO consent terms and purposes: a purpose that satisfies every condition, made worse one field
at a time, so that each test shows exactly what turns a permit into a deny."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from consent.duo.terms import ConsentTerms, PurposeType, ResearchPurpose, TermParameters
from consent.duo.vocabulary import vocabulary

CONSENTED_AT = date(2026, 1, 15)
USED_AT = date(2026, 11, 21)

# Parameters that every modifier is happy with when the purpose is the model one below.
FULL_PARAMETERS = TermParameters(
    regions=frozenset({"JP"}),
    months=24,
    moratorium_until=date(2027, 4, 1),
    users=frozenset({"researcher-1"}),
    projects=frozenset({"project-1"}),
    institutions=frozenset({"univ-1"}),
    topics=frozenset({"oncology"}),
    collaborators=frozenset({"Dr Tanaka"}),
)


def terms(
    permission: str | None = "GRU",
    *modifiers: str,
    diseases: tuple[str, ...] = (),
    consented_at: date = CONSENTED_AT,
    **parameters: Any,
) -> ConsentTerms:
    """Consent terms; parameters default to FULL_PARAMETERS, overridden by keyword."""
    return ConsentTerms(
        permission=vocabulary().permission(permission) if permission else None,
        diseases=diseases,
        modifiers=tuple(vocabulary().modifier(code) for code in modifiers),
        parameters=replace(FULL_PARAMETERS, **parameters),
        consented_at=consented_at,
    )


def purpose(kind: str = "HMB", **fields: Any) -> ResearchPurpose:
    """A purpose that meets every modifier's condition under FULL_PARAMETERS, changed by keyword."""
    values: dict[str, Any] = {
        "type": PurposeType(kind),
        "at": USED_AT,
        "diseases": ("C34",) if kind in ("DS", "MDS") else (),
        "commercial": False,
        "for_profit": False,
        "genetic": True,
        "ethics_approval": True,
        "publication": True,
        "returns_data": True,
        "collaborators": frozenset({"Dr Tanaka"}),
        "regions": frozenset({"JP"}),
        "topics": frozenset({"oncology"}),
        "user": "researcher-1",
        "project": "project-1",
        "institution": "univ-1",
    }
    values.update(fields)
    return ResearchPurpose(**values)
