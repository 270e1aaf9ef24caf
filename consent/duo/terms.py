"""What the engine compares: a person's consent terms and a research purpose, both already parsed.

Diseases here are canonical ICD-10 codes (see :mod:`consent.duo.icd10`); region codes are upper-case
ISO 3166 codes. :mod:`consent.duo.wire` builds these from JSON and enforces both.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date

from consent.duo.vocabulary import Term, TermKind


class PurposeType(enum.StrEnum):
    """The kind of use a research purpose declares."""

    GRU = "GRU"  # general research, health or not
    HMB = "HMB"  # health, medical or biomedical research
    DS = "DS"  # research on the purpose's diseases
    POA = "POA"  # population origins or ancestry research
    MDS = "MDS"  # methods development (software, algorithms), for the purpose's diseases when given
    CC = "CC"  # clinical care of the person


@dataclass(frozen=True, slots=True, kw_only=True)
class TermParameters:
    """The values that parameterised modifiers are restricted to (GS regions, TS months, and so on)."""

    regions: frozenset[str] = frozenset()
    months: int | None = None
    moratorium_until: date | None = None
    users: frozenset[str] = frozenset()
    projects: frozenset[str] = frozenset()
    institutions: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    collaborators: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentTerms:
    """A person's DUO data-use terms: one permission (or none), its diseases, modifiers and parameters.

    Modifiers are kept once each, in vocabulary order, so that results never depend on input order.
    """

    permission: Term | None
    consented_at: date
    diseases: tuple[str, ...] = ()
    modifiers: tuple[Term, ...] = ()
    parameters: TermParameters = TermParameters()
    modifier_codes: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.permission is not None and self.permission.kind is not TermKind.PERMISSION:
            raise ValueError(f"{self.permission} is not a data-use permission")
        for modifier in self.modifiers:
            if modifier.kind is not TermKind.MODIFIER:
                raise ValueError(f"{modifier} is not a data-use modifier")
        object.__setattr__(self, "modifiers", tuple(sorted(set(self.modifiers), key=lambda term: term.order)))
        object.__setattr__(self, "modifier_codes", frozenset(term.shorthand for term in self.modifiers))

    def has(self, shorthand: str) -> bool:
        """Whether the terms carry the modifier with this shorthand."""
        return shorthand in self.modifier_codes

    @property
    def permission_code(self) -> str | None:
        return self.permission.shorthand if self.permission is not None else None


@dataclass(frozen=True, slots=True, kw_only=True)
class ResearchPurpose:
    """A proposed use of data: its type, diseases, commitments, requester and date of use.

    The commitments have no defaults on purpose: a caller must say whether the use is commercial.
    Lists default to empty, which only ever narrows what a purpose may do.
    """

    type: PurposeType
    at: date
    commercial: bool
    for_profit: bool
    genetic: bool
    ethics_approval: bool
    publication: bool
    returns_data: bool
    diseases: tuple[str, ...] = ()
    collaborators: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    user: str | None = None
    project: str | None = None
    institution: str | None = None
