"""The engine form of a person's directives (``ConsentState.directives``) and its parser.

The state is a JSON list with one object per directive in force::

    {"kind": "global_opt_out", "at": "2026-11-21T01:02:03.000004+00:00"}
    {"kind": "category", "value": "deny", "category": "genomics", "purpose_class": "", "at": …}
    {"kind": "organisation_block", "organisation": "<uuid>", "purpose_class": "primary_care", "at": …}
    {"kind": "project", "project": "<uuid>", "value": "permit", "categories": ["diagnoses"], "at": …}
    {"kind": "duo_terms", "terms": {<wire-form consent terms>}, "at": …}
    {"kind": "contact", "preferences": {"email": true, …}, "at": …}

An empty string in ``category`` or ``purpose_class`` means "every". Each object may also carry its
directive ``id``. Parsing resolves the list so that its order never matters: on one scope the newest
directive wins and, at the same instant, a refusal wins over a permission. Anything unreadable (an
unknown kind, category or purpose class, a malformed date or DUO terms) marks the whole state invalid,
and the engine then denies every non-statutory use: it never guesses what a person meant.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from consent.duo.icd10 import DiseaseCodeError
from consent.duo.terms import ConsentTerms
from consent.duo.wire import WireError, parse_match_request
from consent.engine.types import CategoryChoice, ParsedDirectives, ProjectChoice
from phr.categories import TIERS

PURPOSE_CLASSES = frozenset({"primary_care", "academic_research", "commercial_rnd", "public_health"})
KINDS = frozenset({"global_opt_out", "category", "organisation_block", "project", "duo_terms", "contact"})
VALUES = {"permit": True, "deny": False}
# A purpose that every well-formed set of terms can be parsed beside.
_PURPOSE_STUB = {
    "type": "HMB",
    "at": "2000-01-01",
    "commercial": False,
    "for_profit": False,
    "genetic": False,
    "ethics_approval": False,
    "publication": False,
    "returns_data": False,
}


class StateError(ValueError):
    """The stored state cannot be read."""


@lru_cache(maxsize=4096)
def _terms_from_json(text: str) -> ConsentTerms:
    try:
        return parse_match_request({"consent": json.loads(text), "purpose": _PURPOSE_STUB}).consent
    except (WireError, DiseaseCodeError) as error:
        raise StateError(f"unreadable DUO terms: {error}") from error


def parse_terms(terms: object) -> ConsentTerms:
    """Wire-form DUO terms, parsed once per distinct value (many people share the same terms)."""
    return _terms_from_json(json.dumps(terms, sort_keys=True, separators=(",", ":")))


def _at(entry: Mapping[str, Any]) -> datetime:
    try:
        moment = datetime.fromisoformat(entry["at"])
    except (KeyError, TypeError, ValueError) as error:
        raise StateError("a directive without a valid time") from error
    if moment.tzinfo is None:
        raise StateError("a directive time without a time zone")
    return moment


def readable_time(value: object) -> bool:
    """Whether ``value`` is a directive time the parser accepts (ISO 8601 with a time zone)."""
    try:
        _at({"at": value})
    except StateError:
        return False
    return True


def _scope(entry: Mapping[str, Any], name: str, known: frozenset[str] | Mapping[str, Any]) -> str | None:
    value = entry.get(name, "")
    if value == "":
        return None
    if value not in known:
        raise StateError(f"unknown {name} {value!r}")
    return str(value)


def _value(entry: Mapping[str, Any]) -> bool:
    value = entry.get("value")
    if value not in VALUES:
        raise StateError(f"unknown directive value {value!r}")
    return VALUES[value]


def _newest(current: tuple[datetime, bool] | None, at: datetime, permit: bool) -> bool:
    """Whether (at, permit) replaces ``current``: newer wins; at the same instant a refusal wins."""
    return current is None or at > current[0] or (at == current[0] and current[1] and not permit)


def parse_state(entries: Sequence[Mapping[str, Any]] | Any) -> ParsedDirectives:
    """Resolve stored directives; an unreadable state gives ``ParsedDirectives(invalid=why)``."""
    try:
        return _parse(entries)
    except StateError as error:
        return ParsedDirectives(invalid=str(error))


def _parse(entries: Any) -> ParsedDirectives:
    if not isinstance(entries, list):
        raise StateError("the state is not a list")
    opt_out: datetime | None = None
    projects: dict[str, ProjectChoice] = {}
    blocks: dict[str, set[str | None]] = {}
    scoped: dict[tuple[str | None, str | None], CategoryChoice] = {}
    terms: list[tuple[datetime, ConsentTerms]] = []
    contact: tuple[datetime, Mapping[str, object]] | None = None
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("kind") not in KINDS:
            raise StateError(f"unknown directive {entry!r:.80}")
        kind, at = entry["kind"], _at(entry)
        if kind == "global_opt_out":
            opt_out = at if opt_out is None or at > opt_out else opt_out
        elif kind == "category":
            category = _scope(entry, "category", TIERS)
            purpose_class = _scope(entry, "purpose_class", PURPOSE_CLASSES)
            if category is None and purpose_class is None:
                raise StateError("a category directive without a category or purpose class")
            permit = _value(entry)
            old = scoped.get((category, purpose_class))
            if _newest(None if old is None else (old.at, old.permit), at, permit):
                scoped[(category, purpose_class)] = CategoryChoice(category, purpose_class, permit, at)
        elif kind == "organisation_block":
            organisation = entry.get("organisation")
            if not isinstance(organisation, str) or not organisation:
                raise StateError("an organisation block without an organisation")
            blocks.setdefault(organisation, set()).add(_scope(entry, "purpose_class", PURPOSE_CLASSES))
        elif kind == "project":
            project = entry.get("project")
            shown = entry.get("categories", [])
            if not isinstance(project, str) or not project or not isinstance(shown, list):
                raise StateError("a project directive without a project")
            if any(category not in TIERS for category in shown):
                raise StateError("a project directive with an unknown category")
            permit = _value(entry)
            old_choice = projects.get(project)
            if _newest(None if old_choice is None else (old_choice.at, old_choice.permit), at, permit):
                projects[project] = ProjectChoice(permit, frozenset(shown), at)
        elif kind == "duo_terms":
            terms.append((at, parse_terms(entry.get("terms"))))
        else:
            preferences = entry.get("preferences")
            if not isinstance(preferences, dict):
                raise StateError("contact preferences that are not an object")
            if contact is None or at > contact[0]:
                contact = (at, preferences)
    newest_terms: tuple[ConsentTerms, ...] = ()
    if terms:
        # Newest terms win; terms given at the same instant all apply (each can only narrow).
        newest = max(at for at, _ in terms)
        newest_terms = tuple(sorted({t for at, t in terms if at == newest}, key=repr))
    return ParsedDirectives(
        global_opt_out=opt_out,
        projects=projects,
        organisation_blocks={key: frozenset(value) for key, value in blocks.items()},
        categories=tuple(sorted(scoped.values(), key=lambda c: (c.category or "", c.purpose_class or ""))),
        terms=newest_terms,
        contact=dict(contact[1]) if contact else {},
    )


def decision_key(text: str) -> str:
    """What of a stored state (JSON text) a decision depends on, for sharing decisions between persons.

    A decision reads each directive's kind, scope, value and terms, and compares a person's directive times
    only with each other (newest wins; a permission given before a global opt-out is withdrawn). So each
    directive's ``id`` is left out and its time is replaced by its rank among the state's times: states
    equal in this form get equal decisions, though every person's ids and times differ. (Directives in
    another order, or keys in another order, give another key: correct, only shared less.) A state whose
    times cannot be read keeps its full text (parsing it will find it invalid).
    """
    try:
        entries = json.loads(text)
        moments = [datetime.fromisoformat(entry["at"]) for entry in entries]
    except (ValueError, TypeError, KeyError):
        return text
    if any(moment.tzinfo is None for moment in moments):
        return text
    rank = {moment: number for number, moment in enumerate(sorted(set(moments)))}
    for entry, moment in zip(entries, moments, strict=True):
        entry.pop("id", None)
        entry["at"] = rank[moment]
    return json.dumps(entries)
