"""What the decision engine reads and answers. Plain frozen dataclasses: no Django, no database."""

from __future__ import annotations

import bisect
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from consent.duo.results import Decision as Verdict
from consent.duo.results import Language, Obligation, Reason
from consent.duo.terms import ConsentTerms, ResearchPurpose

__all__ = [
    "CategoryDecision",
    "ConsentSnapshot",
    "Decision",
    "DecisionBasis",
    "DecisionRequest",
    "NoticeFact",
    "Obligation",
    "ParsedDirectives",
    "ProjectFacts",
    "Reason",
    "RegimeRule",
    "RegimeTable",
    "Verdict",
]


class DecisionBasis(enum.StrEnum):
    """On what ground a category was permitted or denied."""

    STATUTORY = "statutory"  # rule 1: use under law
    PROHIBITED = "prohibited"  # rule 1: the regime forbids it
    CONSENT = "consent"  # rules 2 and 4: the person accepted the project or allowed the category
    OBJECTION = "objection"  # rules 2–6: the person declined, blocked, refused, opted out or set terms
    OPT_OUT = "opt_out"  # rule 7: notified, the window passed, no objection
    OPT_IN = "opt_in"  # rule 7: explicit consent needed and not given
    NOTICE = "notice"  # rule 7: not notified yet, or the objection window is still open
    INVALID = "invalid"  # fail-closed: unknown person, category, regime, project or unreadable state


@dataclass(frozen=True, slots=True)
class RegimeRule:
    """One regime version, as the engine reads it."""

    id: int
    purpose_class: str
    tier: int
    version: int
    basis: str
    window_days: int
    notice_by_publication: bool
    notice_must_state_commercial_use: bool
    effective_from: datetime
    effective_to: datetime | None

    @property
    def policy_uri(self) -> str:
        return f"urn:mamori:regime:{self.purpose_class}:tier-{self.tier}:v{self.version}"

    def in_force(self, at: datetime) -> bool:
        return self.effective_from <= at and (self.effective_to is None or at < self.effective_to)


class RegimeTable:
    """Every regime version, found by purpose class, tier and instant."""

    __slots__ = ("_by_cell", "_starts")

    def __init__(self, rules: Iterable[RegimeRule]) -> None:
        cells: dict[tuple[str, int], list[RegimeRule]] = {}
        for rule in rules:
            cells.setdefault((rule.purpose_class, rule.tier), []).append(rule)
        self._by_cell = {
            key: sorted(value, key=lambda r: (r.effective_from, r.version)) for key, value in cells.items()
        }
        self._starts = {key: [r.effective_from for r in value] for key, value in self._by_cell.items()}

    def in_force(self, purpose_class: str, tier: int, at: datetime) -> RegimeRule | None:
        """The version in force at ``at``: the latest that started on or before it, if it has not ended."""
        rules = self._by_cell.get((purpose_class, tier))
        if not rules:
            return None
        index = bisect.bisect_right(self._starts[(purpose_class, tier)], at) - 1
        if index < 0:
            return None
        rule = rules[index]
        return rule if rule.in_force(at) else None


@dataclass(frozen=True, slots=True)
class ProjectFacts:
    """What the engine needs to know of a project."""

    id: str
    organisation_id: str
    approved: bool
    period_start: date
    period_end: date


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionRequest:
    """A question: may these categories be used for this purpose (a project, or an ad-hoc purpose)?

    ``purpose`` is the DUO research purpose; its ``at`` is replaced by the decision date. ``None`` means
    the purpose is not DUO-coded, which a person's data-use terms then deny (rule 6).
    """

    purpose_class: str
    categories: tuple[str, ...]
    regimes: RegimeTable
    organisation_id: str | None = None
    project: ProjectFacts | None = None
    purpose: ResearchPurpose | None = None


@dataclass(frozen=True, slots=True)
class NoticeFact:
    """A delivered notice: when, and whether it stated a commercial use."""

    delivered_at: datetime
    states_commercial_use: bool


@dataclass(frozen=True, slots=True)
class CategoryChoice:
    """A category directive: ``None`` in category or purpose class means every one."""

    category: str | None
    purpose_class: str | None
    permit: bool
    at: datetime

    @property
    def specificity(self) -> int:
        return (self.category is not None) + (self.purpose_class is not None)


@dataclass(frozen=True, slots=True)
class ProjectChoice:
    """The person's newest accept or decline of a project, with the categories shown when accepting."""

    permit: bool
    categories: frozenset[str]
    at: datetime


@dataclass(frozen=True, slots=True)
class ParsedDirectives:
    """A person's current directives, resolved so that their order never matters (see engine.state)."""

    global_opt_out: datetime | None = None
    projects: Mapping[str, ProjectChoice] = field(default_factory=dict)
    organisation_blocks: Mapping[str, frozenset[str | None]] = field(default_factory=dict)
    categories: tuple[CategoryChoice, ...] = ()
    terms: tuple[ConsentTerms, ...] = ()
    contact: Mapping[str, object] = field(default_factory=dict)
    invalid: str | None = None


@dataclass(frozen=True, slots=True)
class ConsentSnapshot:
    """A person's consent state as the engine reads it, with the notices relevant to the request.

    ``notices`` is keyed ``"project:<id>"`` or ``"regime:<id>"``.
    """

    person_id: str
    version: int
    directives: ParsedDirectives
    notices: Mapping[str, tuple[NoticeFact, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CategoryDecision:
    """The answer for one data category: verdict, basis, the rule that decided, reasons and obligations."""

    category: str
    verdict: Verdict
    basis: DecisionBasis
    rule: int
    reasons: tuple[Reason, ...] = ()
    obligations: tuple[Obligation, ...] = ()
    policy: str | None = None

    @property
    def permitted(self) -> bool:
        return self.verdict is Verdict.PERMIT


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one person: permit only when every requested category is permitted.

    ``failure`` is why the whole request was denied before any category was weighed (unknown person,
    purpose class or project state, or no category asked for); each category then carries it too.
    """

    person_id: str | None
    verdict: Verdict
    categories: tuple[CategoryDecision, ...]
    consent_version: int | None
    at: datetime
    failure: Reason | None = None

    @property
    def permitted(self) -> bool:
        return self.verdict is Verdict.PERMIT

    @property
    def permitted_categories(self) -> tuple[str, ...]:
        return tuple(c.category for c in self.categories if c.permitted)

    @property
    def reasons(self) -> tuple[Reason, ...]:
        """Every reason of every denied category, each once, in category order."""
        seen: dict[tuple[str, str], Reason] = {}
        if self.failure is not None:
            seen[(self.failure.code, self.failure.message_en)] = self.failure
        for category in self.categories:
            for reason in category.reasons:
                seen.setdefault((reason.code, reason.message_en), reason)
        return tuple(seen.values())

    @property
    def obligations(self) -> tuple[Obligation, ...]:
        seen: dict[Obligation, None] = {}
        for category in self.categories:
            for obligation in category.obligations:
                seen.setdefault(obligation)
        return tuple(seen)

    def to_wire(self, language: Language) -> dict[str, Any]:
        """The API shape (DESIGN §6) without the identifier and project, which the caller adds."""
        return {
            "decision": self.verdict.value,
            "categories": {c.category: {"decision": c.verdict.value, "basis": c.basis.value} for c in self.categories},
            "reasons": [{"code": r.code, "message": r.message(language)} for r in self.reasons],
            "obligations": [{"code": o.code, "until": o.until.isoformat()} for o in self.obligations],
            "consent_version": self.consent_version,
            "evaluated_at": self.at.isoformat(),
        }
