"""The decision engine (DESIGN §4): pure, deterministic, no I/O, no clock; it never fails open.

For each requested category, the first rule that applies wins:

0. Fail closed: an unknown person, purpose class or category, no category at all, a project that is
   not approved or is used outside its period, or no regime in force → deny (basis ``invalid``).
1. Regime ``prohibited`` → deny; ``statutory`` → permit (basis ``statutory``). Nothing below can
   change these, and an unreadable state does not stop a statutory use (choices do not apply to it).
   Any other rule first needs a readable state: otherwise deny (``state-unreadable``).
2. The person accepted this project → permit for the categories shown when accepting (others go on
   to rule 3); declined → deny. Newest choice wins; at the same instant a decline wins.
3. The requesting organisation (the project's) is blocked → deny. A block may be limited to one
   purpose class: that is the per-organisation opt-out of primary care (a block of a hospital for
   ``primary_care`` stops care sharing with that hospital only; other hospitals still may).
4. Category directives for this category and purpose class. A directive names a category, a purpose
   class or both ("every purpose" or "every category" otherwise). The most specific level present
   decides; on one scope the newest directive wins; across scopes of the same level a refusal wins.
5. The global secondary-use opt-out → deny, except for ``primary_care``.
6. The person's DUO terms (newest set) do not match the purpose (§5) → deny with the DUO term as code;
   a purpose without DUO coding is denied (``purpose-not-coded``). Like the opt-out, DUO terms are
   about secondary use and do not apply to ``primary_care``.
7. The regime's default: ``opt_in`` → deny; ``opt_out`` → permit once the person was notified and the
   window has passed; otherwise deny (``not-notified`` or ``notice-window-open``).

Choices where §4 leaves room, made so that a regulator and a citizen would both accept them:

- A global opt-out withdraws every earlier permission for secondary use: a project acceptance or a
  category allow made *before* the opt-out no longer counts (rules 2 and 4 skip it), while one made
  after it does (the newest choice wins). Without this, opting out would leave older acceptances in
  force, which no citizen pressing "stop everything" expects.
- "Notified" (rule 7) means a *delivered* notice: for a project request, a notice of that project;
  for an ad-hoc request, a notice of the regime version in force. A ``public`` notice row (公示, for a
  person with no contact channel) counts as delivered on its publication date. A regime whose
  publication is the notice (primary care: notices posted by care organisations) counts from its
  effective date. When the regime requires it (commercial R&D), only a notice that stated the
  commercial use counts. The window runs from the earliest qualifying delivery; use is allowed from
  delivery + window days. Objections are the person's directives, so reaching rule 7 means none.
- Obligations: a secondary-use permit carries the obligations of the person's DUO terms (MOR: no
  publication before the date) whenever the terms match the purpose, whichever rule permitted.
- Directives are the person's current choices: ``at`` selects the regime version, counts notice
  windows and dates the DUO purpose; it does not replay history (the ledger does that).
- The person's overall answer is permit only when every requested category is permitted.

Batch evaluation shares the per-request work (regimes per category, the dated purpose, DUO matches of
identical terms) and calls the same per-person function, so single and batch answers are identical.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from consent.duo.matching import match
from consent.duo.results import MatchResult
from consent.duo.terms import ConsentTerms, ResearchPurpose
from consent.engine import reasons
from consent.engine.state import PURPOSE_CLASSES
from consent.engine.types import (
    CategoryDecision,
    ConsentSnapshot,
    Decision,
    DecisionBasis,
    DecisionRequest,
    Obligation,
    ParsedDirectives,
    Reason,
    RegimeRule,
    Verdict,
)
from phr.categories import TIERS

JAPAN = ZoneInfo("Asia/Tokyo")
PRIMARY_CARE = "primary_care"
PERMIT, DENY = Verdict.PERMIT, Verdict.DENY


@dataclass(frozen=True, slots=True)
class _Category:
    """One requested category, with its regime at the decision instant (or why there is none)."""

    name: str
    tier: int
    regime: RegimeRule | None
    failure: Reason | None


class PreparedRequest:
    """A request bound to an instant: the work every person of a batch shares, done once."""

    __slots__ = ("at", "categories", "day", "failure", "matches", "purpose", "request")

    def __init__(self, request: DecisionRequest, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("decisions need an aware datetime")
        self.request = request
        self.at = at
        self.day: date = at.astimezone(JAPAN).date()
        self.purpose: ResearchPurpose | None = (
            replace(request.purpose, at=self.day) if request.purpose is not None else None
        )
        self.matches: dict[tuple[ConsentTerms, ...], MatchResult] = {}
        self.failure = _request_failure(request, self.day)
        self.categories = tuple(self._category(name) for name in request.categories)

    def _category(self, name: str) -> _Category:
        tier = TIERS.get(name)
        if tier is None:
            return _Category(name, 0, None, reasons.unknown_category(name))
        regime = self.request.regimes.in_force(self.request.purpose_class, int(tier), self.at)
        if regime is None:
            return _Category(name, int(tier), None, reasons.no_regime(self.request.purpose_class, int(tier)))
        return _Category(name, int(tier), regime, None)

    def duo(self, terms: tuple[ConsentTerms, ...]) -> MatchResult | None:
        """The match of the person's terms against the purpose (None: the purpose is not coded)."""
        if self.purpose is None:
            return None
        result = self.matches.get(terms)
        if result is None:
            found: list[Reason] = []
            obligations: list[Obligation] = []
            for one in terms:
                outcome = match(one, self.purpose)
                found.extend(outcome.reasons)
                obligations.extend(outcome.obligations)
            result = MatchResult.of(found, dict.fromkeys(obligations))
            self.matches[terms] = result
        return result


def _request_failure(request: DecisionRequest, day: date) -> Reason | None:
    if request.purpose_class not in PURPOSE_CLASSES:
        return reasons.unknown_purpose_class(request.purpose_class)
    if not request.categories:
        return reasons.no_categories()
    project = request.project
    if project is not None:
        if not project.approved:
            return reasons.project_not_approved()
        if not project.period_start <= day <= project.period_end:
            return reasons.outside_project_period(project.period_start, project.period_end)
    return None


def decide(state: ConsentSnapshot | None, request: DecisionRequest, at: datetime) -> Decision:
    """Decide one person's request at ``at`` (aware). ``state`` None means the person is unknown."""
    return decide_prepared(state, PreparedRequest(request, at))


def decide_many(states: Iterable[ConsentSnapshot | None], request: DecisionRequest, at: datetime) -> list[Decision]:
    """Decide the same request for many persons; each answer equals :func:`decide`'s."""
    prepared = PreparedRequest(request, at)
    return [decide_prepared(state, prepared) for state in states]


def decide_prepared(state: ConsentSnapshot | None, prepared: PreparedRequest) -> Decision:
    """Decide with a request already prepared for its instant (the batch path)."""
    if state is None:
        failure: Reason | None = reasons.unknown_person()
    else:
        failure = prepared.failure
    if failure is not None:
        categories = tuple(
            CategoryDecision(c.name, DENY, DecisionBasis.INVALID, 0, (failure,)) for c in prepared.categories
        )
        person_id = None if state is None else state.person_id
        return Decision(person_id, DENY, categories, _version(state), prepared.at, failure)
    assert state is not None
    person = _PersonView(state, prepared)
    decided = tuple(person.category(category) for category in prepared.categories)
    verdict = PERMIT if all(c.verdict is PERMIT for c in decided) else DENY
    return Decision(state.person_id, verdict, decided, state.version, prepared.at)


def _version(state: ConsentSnapshot | None) -> int | None:
    return None if state is None else state.version


class _PersonView:
    """The category-independent facts about one person for one prepared request, worked out once."""

    __slots__ = ("blocked", "directives", "duo", "prepared", "project_choice", "secondary", "state")

    def __init__(self, state: ConsentSnapshot, prepared: PreparedRequest) -> None:
        self.state = state
        self.prepared = prepared
        self.directives: ParsedDirectives = state.directives
        request = prepared.request
        self.secondary = request.purpose_class != PRIMARY_CARE
        directives = self.directives
        self.blocked = False
        organisation = request.organisation_id
        if organisation is not None and organisation in directives.organisation_blocks:
            scopes = directives.organisation_blocks[organisation]
            self.blocked = None in scopes or request.purpose_class in scopes
        choice = directives.projects.get(request.project.id) if request.project is not None else None
        if choice is not None and choice.permit and self._withdrawn(choice.at):
            choice = None
        self.project_choice = choice
        self.duo: MatchResult | bool | None = False  # False: not worked out yet

    def _withdrawn(self, at: datetime) -> bool:
        """Whether a permission given at ``at`` was withdrawn by a later global opt-out."""
        opt_out = self.directives.global_opt_out
        return self.secondary and opt_out is not None and at <= opt_out

    def _duo(self) -> MatchResult | None:
        if self.duo is False:
            self.duo = self.prepared.duo(self.directives.terms) if self.directives.terms else None
        return self.duo  # type: ignore[return-value]

    def _obligations(self) -> tuple[Obligation, ...]:
        if not self.secondary or not self.directives.terms:
            return ()
        result = self._duo()
        return result.obligations if result is not None and result.permitted else ()

    def category(self, category: _Category) -> CategoryDecision:
        name, regime = category.name, category.regime
        if category.failure is not None or regime is None:
            failure = category.failure or reasons.unknown_category(name)
            return CategoryDecision(name, DENY, DecisionBasis.INVALID, 0, (failure,))
        request = self.prepared.request
        policy = regime.policy_uri
        # Rule 1
        if regime.basis == "prohibited":
            reason = reasons.prohibited(request.purpose_class, category.tier)
            return CategoryDecision(name, DENY, DecisionBasis.PROHIBITED, 1, (reason,), policy=policy)
        if regime.basis == "statutory":
            return CategoryDecision(name, PERMIT, DecisionBasis.STATUTORY, 1, policy=policy)
        if self.directives.invalid is not None:
            return CategoryDecision(name, DENY, DecisionBasis.INVALID, 0, (reasons.state_unreadable(),), policy=policy)
        # Rule 2
        choice = self.project_choice
        if choice is not None:
            if not choice.permit:
                return self._deny(name, 2, reasons.project_declined(), policy)
            if name in choice.categories:
                return CategoryDecision(
                    name, PERMIT, DecisionBasis.CONSENT, 2, obligations=self._obligations(), policy=policy
                )
        # Rule 3
        if self.blocked:
            return self._deny(name, 3, reasons.organisation_blocked(), policy)
        # Rule 4
        directive = self._category_directive(name)
        if directive is not None:
            if not directive:
                return self._deny(name, 4, reasons.category_denied(name, request.purpose_class), policy)
            return CategoryDecision(
                name, PERMIT, DecisionBasis.CONSENT, 4, obligations=self._obligations(), policy=policy
            )
        # Rule 5
        if self.secondary and self.directives.global_opt_out is not None:
            return self._deny(name, 5, reasons.global_opt_out(), policy)
        # Rule 6
        if self.secondary and self.directives.terms:
            result = self._duo()
            if result is None:
                return self._deny(name, 6, reasons.purpose_not_coded(), policy)
            if not result.permitted:
                return CategoryDecision(name, DENY, DecisionBasis.OBJECTION, 6, result.reasons, policy=policy)
        # Rule 7
        return self._regime_default(category, regime, policy)

    def _deny(self, name: str, rule: int, reason: Reason, policy: str) -> CategoryDecision:
        return CategoryDecision(name, DENY, DecisionBasis.OBJECTION, rule, (reason,), policy=policy)

    def _category_directive(self, name: str) -> bool | None:
        """The answer of the category directives (True permit, False deny), or None when none applies."""
        purpose_class = self.prepared.request.purpose_class
        best_level, answer = 0, None
        for choice in self.directives.categories:
            if choice.category not in (None, name) or choice.purpose_class not in (None, purpose_class):
                continue
            if choice.permit and self._withdrawn(choice.at):
                continue
            level = choice.specificity
            if level > best_level:
                best_level, answer = level, choice.permit
            elif level == best_level:
                answer = bool(answer) and choice.permit
        return answer

    def _regime_default(self, category: _Category, regime: RegimeRule, policy: str) -> CategoryDecision:
        name, request = category.name, self.prepared.request
        if regime.basis == "opt_in":
            reason = reasons.opt_in_required(request.purpose_class, category.tier)
            return CategoryDecision(name, DENY, DecisionBasis.OPT_IN, 7, (reason,), policy=policy)
        if regime.basis != "opt_out":
            return CategoryDecision(
                name, DENY, DecisionBasis.INVALID, 7, (reasons.no_regime(request.purpose_class, category.tier),)
            )
        if regime.notice_by_publication:
            start: datetime | None = regime.effective_from
            omitted = False
        else:
            start, omitted = self._notified(regime)
        if start is None:
            reason = reasons.notice_omits_commercial_use() if omitted else reasons.not_notified()
            return CategoryDecision(name, DENY, DecisionBasis.NOTICE, 7, (reason,), policy=policy)
        opens = start + timedelta(days=regime.window_days)
        if self.prepared.at < opens:
            reason = reasons.notice_window_open(opens.astimezone(JAPAN).date())
            return CategoryDecision(name, DENY, DecisionBasis.NOTICE, 7, (reason,), policy=policy)
        return CategoryDecision(name, PERMIT, DecisionBasis.OPT_OUT, 7, obligations=self._obligations(), policy=policy)

    def _notified(self, regime: RegimeRule) -> tuple[datetime | None, bool]:
        """The earliest qualifying delivery, and whether some delivered notice failed the commercial rule."""
        request = self.prepared.request
        key = f"project:{request.project.id}" if request.project is not None else f"regime:{regime.id}"
        earliest: datetime | None = None
        omitted = False
        for notice in self.state.notices.get(key, ()):
            if notice.delivered_at > self.prepared.at:
                continue
            if regime.notice_must_state_commercial_use and not notice.states_commercial_use:
                omitted = True
                continue
            if earliest is None or notice.delivered_at < earliest:
                earliest = notice.delivered_at
        return earliest, omitted and earliest is None
