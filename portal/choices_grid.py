"""My choices: the category × purpose grid, its answers in plain words, and previews of a change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from consent import selectors
from consent.duo.results import Language
from consent.engine import CategoryDecision, ConsentSnapshot, DecisionBasis, ParsedDirectives, RegimeTable, decide
from consent.engine.types import CategoryChoice
from consent.models import PurposeClass
from phr.categories import TIERS, DataCategory, Tier
from phr.models import Person

# Recorded with each change as the text the person was shown (ConsentEvent.notice_version).
from portal.choices_subject import Subject

PURPOSES = [PurposeClass(value) for value in PurposeClass.values]


@dataclass(frozen=True)
class Answer:
    """One cell in words: a short label, its tone (badge colour), a sentence, and whose answer it is."""

    label: str
    tone: str
    detail: str
    by_person: bool

    @property
    def key(self) -> tuple[str, str]:
        return self.label, self.detail


def answer_of(decision: CategoryDecision) -> Answer:
    basis, rule = decision.basis, decision.rule
    language: Language = "en" if (get_language() or "ja").startswith("en") else "ja"
    if basis is DecisionBasis.STATUTORY:
        return Answer(_("Used under law"), "info", _("Public-interest use under law: choices do not stop it."), False)
    if basis is DecisionBasis.PROHIBITED:
        return Answer(_("Never used"), "neutral", _("The rules do not allow this use."), False)
    if basis is DecisionBasis.CONSENT:
        return Answer(_("Allowed by you"), "success", _("You allowed this use."), True)
    if rule in (2, 3, 4) and basis is DecisionBasis.OBJECTION:
        return Answer(_("Refused by you"), "danger", _("You refused this use."), True)
    if rule == 5:
        return Answer(_("Stopped by your opt-out"), "danger", _("Your opt-out stops this use."), True)
    if rule == 6:
        return Answer(
            _("Only if it fits your terms"),
            "warning",
            _("Only research that matches your data-use terms may use this data."),
            True,
        )
    if basis is DecisionBasis.OPT_IN:
        return Answer(_("Only with your consent"), "neutral", _("Not used unless you allow it (opt-in)."), False)
    if basis is DecisionBasis.NOTICE:
        reason = decision.reasons[0].message(language) if decision.reasons else ""
        return Answer(
            _("Allowed after notice unless you object"),
            "warning",
            reason or _("Allowed once you have been notified, unless you object."),
            False,
        )
    if basis is DecisionBasis.OPT_OUT:
        return Answer(
            _("Allowed unless you object"),
            "success",
            _("Notice was given and you did not object. You can still refuse."),
            False,
        )
    return Answer(_("Not used"), "neutral", _("No rule allows this use at the moment."), False)


def default_words(basis: str) -> str:
    """What a regime does without any choice of the person."""
    return {
        "opt_in": _("only with your explicit consent"),
        "opt_out": _("allowed after notice unless you object"),
        "statutory": _("used under law whatever you choose"),
        "prohibited": _("never used"),
    }.get(basis, _("no rule in force"))


Grid = dict[tuple[str, str], CategoryDecision]


@dataclass(frozen=True)
class Snapshots:
    """The person as the engine sees them for each purpose class, loaded once per page."""

    at: datetime
    regimes: RegimeTable
    requests: dict[str, Any]
    snapshots: dict[str, ConsentSnapshot | None]

    @classmethod
    def load(cls, person: Person) -> Snapshots:
        at, regimes = timezone.now(), selectors.regime_table()
        requests = {
            p.value: selectors.adhoc_request(purpose_class=p.value, categories=list(TIERS), regimes=regimes)
            for p in PURPOSES
        }
        snapshots = {p: selectors.snapshots_for([person.pk], request, at)[0] for p, request in requests.items()}
        return cls(at, regimes, requests, snapshots)

    def grid(self, change: Callable[[ParsedDirectives], ParsedDirectives] | None = None) -> Grid:
        """Every cell's decision now, or as it would be after ``change`` to the person's directives."""
        cells: Grid = {}
        for purpose, request in self.requests.items():
            snapshot = self.snapshots[purpose]
            if snapshot is not None and change is not None:
                snapshot = replace(snapshot, directives=change(snapshot.directives))
            for decision in decide(snapshot, request, self.at).categories:
                cells[(decision.category, purpose)] = decision
        return cells

    def basis(self, purpose: str, tier: int) -> str:
        rule = self.regimes.in_force(purpose, tier, self.at)
        return rule.basis if rule is not None else ""


@dataclass(frozen=True)
class Cell:
    purpose: PurposeClass
    answer: Answer
    default: str
    url: str


@dataclass(frozen=True)
class Row:
    category: DataCategory
    cells: list[Cell]


@dataclass(frozen=True)
class TierGroup:
    tier: Tier
    rows: list[Row]

    @property
    def sensitive(self) -> bool:
        return self.tier == Tier.SENSITIVE


def tier_groups(subject: Subject, snapshots: Snapshots, grid: Grid) -> list[TierGroup]:
    groups = []
    for tier in Tier:
        rows = []
        for category in DataCategory:
            if TIERS[category] != tier:
                continue
            cells = [
                Cell(
                    purpose,
                    answer_of(grid[(category.value, purpose.value)]),
                    default_words(snapshots.basis(purpose.value, int(tier))),
                    subject.url("choices_category", category.value, purpose.value),
                )
                for purpose in PURPOSES
            ]
            rows.append(Row(category, cells))
        groups.append(TierGroup(tier, rows))
    return groups


@dataclass
class ChangeGroup:
    """Cells of one purpose class whose answer changes the same way: "now X, after Y" for these categories."""

    purpose: str
    before: Answer
    after: Answer
    categories: list[str]


def grid_changes(before: Grid, after: Grid) -> list[ChangeGroup]:
    groups: dict[tuple[str, tuple[str, str], tuple[str, str]], ChangeGroup] = {}
    for (category, purpose), decision in before.items():
        old, new = answer_of(decision), answer_of(after[(category, purpose)])
        if old.key == new.key:
            continue
        group = groups.setdefault(
            (purpose, old.key, new.key), ChangeGroup(str(PurposeClass(purpose).label), old, new, [])
        )
        group.categories.append(str(DataCategory(category).label))
    return list(groups.values())


def with_opt_out(at: datetime | None) -> Callable[[ParsedDirectives], ParsedDirectives]:
    return lambda directives: replace(directives, global_opt_out=at)


def with_category(
    category: str, purpose: str, value: str | None, at: datetime
) -> Callable[[ParsedDirectives], ParsedDirectives]:
    def change(directives: ParsedDirectives) -> ParsedDirectives:
        kept = tuple(c for c in directives.categories if (c.category, c.purpose_class) != (category, purpose))
        added = (CategoryChoice(category, purpose, value == "permit", at),) if value else ()
        return replace(directives, categories=kept + added)

    return change


# -- history in words -----------------------------------------------------------------------------------


def statutory_uses(snapshots: Snapshots) -> list[str]:
    """The uses under law in force, by purpose class: the opt-out and other choices do not stop them."""
    uses = []
    for purpose in PURPOSES:
        tiers = [tier for tier in Tier if snapshots.basis(purpose.value, int(tier)) == "statutory"]
        if len(tiers) == len(Tier):
            uses.append(_("%(purpose)s: every kind of data") % {"purpose": purpose.label})
        elif tiers:
            names = ", ".join(str(tier.label) for tier in tiers)
            uses.append(_("%(purpose)s: %(tiers)s") % {"purpose": purpose.label, "tiers": names})
    return uses
