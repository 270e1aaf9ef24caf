"""What a hospital may learn from a decision: the answer, and why only when the why is about its request.

EHDS Art 8 (DESIGN §6): that a person restricted the use of their data must not be visible to care
providers. The engine explains every denial in full (opted out, refused a category, blocked the
organisation, declined the project, data-use terms, not yet notified, …); the person, their proxies and the
review committee read those reasons (the decision audit keeps them). API answers — single, batch, bulk
results, release refusals — go through :func:`hospital_wire` instead: a reason that concerns the request
itself (an unknown identifier, a project not approved or out of its period, an unknown category or purpose
class, a regime that forbids or does not cover the use: the same answer for every person) stays as it is;
any reason that depends on the person becomes one ``not-releasable``, a denied category's basis becomes
``not_releasable``, and obligations (which carry the person's data-use terms) go with permits only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from consent.duo.results import Language, Reason
from consent.engine import Decision, Verdict

# Reasons about the request, not the person: every person asked about gets them alike.
REQUEST_REASONS = frozenset(
    {
        "unknown-person",
        "unknown-category",
        "no-categories",
        "unknown-purpose-class",
        "no-regime",
        "prohibited",
        "project-not-approved",
        "outside-project-period",
    }
)
NOT_RELEASABLE_BASIS = "not_releasable"
NOT_RELEASABLE = Reason(
    "not-releasable",
    "この人のデータは、この利用のためには提供できません。",
    "This person's data cannot be released for this use.",
)


def about_request(reasons: tuple[Reason, ...]) -> bool:
    """Whether every one of ``reasons`` concerns the request rather than the person (and there is one)."""
    return bool(reasons) and all(reason.code in REQUEST_REASONS for reason in reasons)


def hospital_reasons(decision: Decision) -> list[Reason]:
    """The decision's reasons as a hospital sees them, in order, each once."""
    result: list[Reason] = []
    neutral = False
    for reason in decision.reasons:
        if reason.code in REQUEST_REASONS:
            result.append(reason)
        elif not neutral:
            neutral = True
            result.append(NOT_RELEASABLE)
    return result


def hospital_reasons_wire(decision: Decision, language: Language) -> list[dict[str, str]]:
    return [{"code": reason.code, "message": reason.message(language)} for reason in hospital_reasons(decision)]


def hospital_wire(decision: Decision, language: Language) -> dict[str, Any]:
    """The API shape of a decision (DESIGN §6) without identifier and project, which the caller adds."""
    return {
        **_answer(decision, language),
        "consent_version": decision.consent_version,
        "evaluated_at": decision.at.isoformat(),
    }


def hospital_wires(decisions: Sequence[Decision], language: Language) -> list[dict[str, Any]]:
    """:func:`hospital_wire` of many decisions (a batch): the answer part is worked out once per distinct
    answer — copies of one shared decision (consent.bulk.decisions) share its categories and failure."""
    answers: dict[tuple[int, int, Verdict], dict[str, Any]] = {}
    stamps: dict[datetime, str] = {}
    result = []
    for decision in decisions:
        key = (id(decision.categories), id(decision.failure), decision.verdict)
        answer = answers.get(key)
        if answer is None:
            answer = answers[key] = _answer(decision, language)
        stamp = stamps.get(decision.at)
        if stamp is None:
            stamp = stamps[decision.at] = decision.at.isoformat()
        result.append({**answer, "consent_version": decision.consent_version, "evaluated_at": stamp})
    return result


def _answer(decision: Decision, language: Language) -> dict[str, Any]:
    """What the hospital is told, but the consent version and the instant."""
    permitted = decision.verdict is Verdict.PERMIT
    categories = {}
    for category in decision.categories:
        if category.verdict is Verdict.PERMIT or about_request(category.reasons):
            basis = category.basis.value
        else:
            basis = NOT_RELEASABLE_BASIS
        categories[category.category] = {"decision": category.verdict.value, "basis": basis}
    obligations = decision.obligations if permitted else ()
    return {
        "decision": decision.verdict.value,
        "categories": categories,
        "reasons": hospital_reasons_wire(decision, language),
        "obligations": [{"code": o.code, "until": o.until.isoformat()} for o in obligations],
    }


# What the person (or their proxy) reads beside a check of their choices: the full reason, said briefly.
# Any other code is a DUO term of the person's data-use terms (consent.duo.reasons).
PERSON_REASONS: dict[str, Promise] = {
    "unknown-category": _("the request named an unknown kind of data"),
    "no-categories": _("the request named no kind of data"),
    "unknown-purpose-class": _("the request named an unknown purpose"),
    "no-regime": _("no rule covered this use"),
    "prohibited": _("the rules prohibit this use"),
    "project-not-approved": _("the project was not approved"),
    "outside-project-period": _("outside the project's period"),
    "state-unreadable": _("the recorded choices could not be read"),
    "project-declined": _("the project was declined"),
    "organisation-blocked": _("this organisation was blocked"),
    "category-denied": _("this kind of data was refused for this purpose"),
    "global-opt-out": _("every use other than care was stopped"),
    "purpose-not-coded": _("the data-use terms could not be matched to this use"),
    "opt-in-required": _("this use needs consent, and none was given"),
    "not-notified": _("no notice of this use had arrived yet"),
    "notice-window-open": _("the time to object had not ended yet"),
}


def person_reason(code: str) -> str:
    """The person's wording of a reason code of a check."""
    label = PERSON_REASONS.get(code)
    if label is not None:
        return str(label)
    return str(_("the data-use terms (%(term)s) do not allow this use") % {"term": code})
