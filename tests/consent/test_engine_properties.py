"""Rules of the decision engine that must hold for every state and request (hypothesis)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from consent.engine import ConsentSnapshot, NoticeFact, Verdict, decide, decide_many, parse_state
from consent.engine.state import decision_key
from phr.categories import TIERS
from tests.consent.duo_factories import purpose as duo_purpose
from tests.consent.engine_factories import AT, HOSPITAL, PROJECT, UNIVERSITY, regime_id, request

CATEGORIES = ["diagnoses", "lab_results", "genomics", "vital_signs", "sensitive_diagnoses"]
CLASSES = ["primary_care", "academic_research", "commercial_rnd", "public_health"]
TERMS = [
    {"permission": "HMB", "modifiers": ["NCU"], "consented_at": "2026-01-15"},
    {"permission": "DS", "diseases": ["C00-C97"], "consented_at": "2026-01-15"},
    {"permission": "GRU", "modifiers": ["MOR"], "parameters": {"MOR": "2027-04-01"}, "consented_at": "2026-01-15"},
    {"permission": "POA", "consented_at": "2026-01-15"},
]

scope_class = st.sampled_from(["", *CLASSES])
category_entry = st.fixed_dictionaries(
    {
        "kind": st.just("category"),
        "value": st.sampled_from(["permit", "deny"]),
        "category": st.sampled_from(["", *CATEGORIES]),
        "purpose_class": scope_class,
    }
).filter(lambda e: e["category"] or e["purpose_class"])
block_entry = st.fixed_dictionaries(
    {
        "kind": st.just("organisation_block"),
        "organisation": st.sampled_from([UNIVERSITY, HOSPITAL]),
        "purpose_class": scope_class,
    }
)
project_entry = st.fixed_dictionaries(
    {
        "kind": st.just("project"),
        "project": st.just(PROJECT),
        "value": st.sampled_from(["permit", "deny"]),
        "categories": st.lists(st.sampled_from(CATEGORIES), unique=True, max_size=3),
    }
)
entry = st.one_of(
    st.just({"kind": "global_opt_out"}),
    category_entry,
    block_entry,
    project_entry,
    st.builds(lambda terms: {"kind": "duo_terms", "terms": terms}, st.sampled_from(TERMS)),
)


@st.composite
def directive_lists(draw: st.DrawFn, max_size: int = 6) -> list[dict[str, Any]]:
    """Directives with distinct times within the last 90 days."""
    entries = draw(st.lists(entry, max_size=max_size))
    minutes = draw(st.lists(st.integers(1, 90 * 24 * 60), min_size=len(entries), max_size=len(entries), unique=True))
    return [{**e, "at": (AT - timedelta(minutes=m)).isoformat()} for e, m in zip(entries, minutes, strict=True)]


@st.composite
def requests(draw: st.DrawFn):
    purpose_class = draw(st.sampled_from(CLASSES))
    with_project = draw(st.booleans()) and purpose_class != "primary_care"
    kind = "CC" if purpose_class == "primary_care" else draw(st.sampled_from(["HMB", "DS", "GRU", "POA"]))
    purpose = draw(st.none() | st.just(duo_purpose(kind, commercial=purpose_class == "commercial_rnd")))
    categories = draw(st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=3, unique=True))
    return request(categories, purpose_class=purpose_class, with_project=with_project, purpose=purpose)


@st.composite
def notices(draw: st.DrawFn) -> dict[str, tuple[NoticeFact, ...]]:
    keys = [f"project:{PROJECT}"] + [f"regime:{regime_id(c, t)}" for c in CLASSES for t in (1, 2)]
    chosen = draw(st.lists(st.sampled_from(keys), unique=True, max_size=3))
    return {key: (NoticeFact(AT - timedelta(days=draw(st.integers(-5, 60))), draw(st.booleans())),) for key in chosen}


def snapshot(entries: list[dict[str, Any]], notice_facts: dict[str, tuple[NoticeFact, ...]]) -> ConsentSnapshot:
    return ConsentSnapshot("p", 1, parse_state(entries), notice_facts)


def statutory(decision_request, category: str) -> bool:
    rule = decision_request.regimes.in_force(decision_request.purpose_class, int(TIERS[category]), AT)
    return rule is not None and rule.basis == "statutory"


@settings(max_examples=300, deadline=None)
@given(directive_lists(), requests(), notices())
def test_after_a_global_opt_out_every_non_statutory_secondary_decision_is_deny(entries, req, facts) -> None:
    latest = {"kind": "global_opt_out", "at": AT.isoformat()}
    decision = decide(snapshot([*entries, latest], facts), req, AT + timedelta(seconds=1))
    for answer in decision.categories:
        if req.purpose_class != "primary_care" and not statutory(req, answer.category):
            assert answer.verdict is Verdict.DENY


@settings(max_examples=300, deadline=None)
@given(directive_lists(), requests(), notices())
def test_after_withdrawing_from_a_project_every_non_statutory_decision_for_it_is_deny(entries, req, facts) -> None:
    withdrawal = {"kind": "project", "project": PROJECT, "value": "deny", "categories": [], "at": AT.isoformat()}
    with_project = request(list(req.categories), purpose_class=req.purpose_class, purpose=req.purpose)
    decision = decide(snapshot([*entries, withdrawal], facts), with_project, AT + timedelta(seconds=1))
    for answer in decision.categories:
        if not statutory(with_project, answer.category):
            assert answer.verdict is Verdict.DENY


@settings(max_examples=300, deadline=None)
@given(directive_lists(), requests(), notices(), st.randoms(use_true_random=False))
def test_shuffling_directives_with_distinct_times_does_not_change_the_decision(entries, req, facts, random) -> None:
    shuffled = list(entries)
    random.shuffle(shuffled)
    assert decide(snapshot(entries, facts), req, AT) == decide(snapshot(shuffled, facts), req, AT)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(directive_lists(), notices()), max_size=6), requests(), st.booleans())
def test_batch_answers_equal_single_answers(people, req, unknown) -> None:
    states: list[ConsentSnapshot | None] = [snapshot(entries, facts) for entries, facts in people]
    if unknown:
        states.append(None)
    assert decide_many(states, req, AT) == [decide(s, req, AT) for s in states]


deny_entry = st.one_of(
    st.just({"kind": "global_opt_out"}),
    category_entry.map(lambda e: {**e, "value": "deny"}),
    block_entry,
    project_entry.map(lambda e: {**e, "value": "deny"}),
)


@settings(max_examples=300, deadline=None)
@given(directive_lists(), requests(), notices(), deny_entry, st.integers(0, 100 * 24 * 60))
def test_adding_a_deny_directive_never_turns_a_deny_into_a_permit(entries, req, facts, extra, minutes) -> None:
    before = decide(snapshot(entries, facts), req, AT)
    added = [*entries, {**extra, "at": (AT - timedelta(minutes=minutes)).isoformat()}]
    after = decide(snapshot(added, facts), req, AT)
    for old, new in zip(before.categories, after.categories, strict=True):
        if old.verdict is Verdict.DENY:
            assert new.verdict is Verdict.DENY
    if not before.permitted:
        assert not after.permitted


@settings(max_examples=300, deadline=None)
@given(directive_lists(), requests(), notices(), st.booleans())
def test_every_deny_carries_a_reason(entries, req, facts, unknown) -> None:
    decision = decide(None if unknown else snapshot(entries, facts), req, AT)
    for answer in decision.categories:
        if answer.verdict is Verdict.DENY:
            assert answer.reasons
            assert all(r.code and r.message_ja and r.message_en for r in answer.reasons)
        else:
            assert not answer.reasons
    if decision.verdict is Verdict.DENY:
        assert decision.reasons


@settings(max_examples=300, deadline=None)
@given(st.lists(entry, max_size=6), st.data(), requests(), notices(), st.integers(1, 5), st.integers(-(10**6), 10**6))
def test_states_with_the_same_decision_key_get_the_same_decision(entries, data, req, facts, stretch, shift) -> None:
    """Bulk checks share one decision among persons whose states have one key (ids and times of their own)."""
    minutes = data.draw(st.lists(st.integers(1, 90 * 24 * 60), min_size=len(entries), max_size=len(entries)))
    first = [
        {**e, "id": f"first-{n}", "at": (AT - timedelta(minutes=m)).isoformat()}
        for n, (e, m) in enumerate(zip(entries, minutes, strict=True))
    ]
    # Another person: other ids, and times moved by a map that keeps their order (and their ties).
    second = [
        {**e, "id": f"second-{n}", "at": (AT - timedelta(minutes=m * stretch + shift)).isoformat()}
        for n, (e, m) in enumerate(zip(entries, minutes, strict=True))
    ]
    assert decision_key(json.dumps(first)) == decision_key(json.dumps(second))
    assert decide(snapshot(first, facts), req, AT) == decide(snapshot(second, facts), req, AT)


def test_a_state_with_an_unreadable_time_shares_its_key_with_no_valid_state() -> None:
    valid = json.dumps([{"kind": "global_opt_out", "at": AT.isoformat()}])
    for broken in ("yesterday", "2026-11-21T10:00:00", None):
        text = json.dumps([{"kind": "global_opt_out", "at": broken}])
        assert decision_key(text) == text != decision_key(valid)
    assert decision_key("not json") == "not json"
