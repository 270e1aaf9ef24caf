"""Decision-engine throughput on one core (DESIGN §8: ≥ 20,000 decisions/s per core), with a baseline.

Run: ``DJANGO_DEBUG=true .venv/bin/python bench/engine.py [--persons N] [--repeat R]``.

Workload: N persons with realistic directive sets, drawn with a fixed seed: most have made no choice;
others opted out, refused or allowed categories, blocked an organisation, accepted or declined the
project, set DUO data-use terms (the kinds citizens pick: HMB + NCU, DS for cancers with a moratorium,
…), several of these at once; most were notified of the project, some too recently. Each person's
state is the engine form that ``ConsentState.directives`` holds, parsed once (``parse_per_s`` is that
cost, paid per person by the batch path). The timed loops decide one request (an approved academic
project asking for three categories, one of them tier 3) for every person:

- ``decisions_per_s``: the batch path (``decide_many``), one request prepared for all persons;
- ``single_per_s``: ``decide`` per person, preparing the request every time (the single-check path).

Baseline: for every person, three dict lookups and a constant answer per category, i.e. the cost of the
Python loop that any decision over this data pays. ``ratio`` = decisions_per_s / baseline_per_s. The
engine is pure Python over parsed states, so no database is needed and Django is not set up.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consent.duo.terms import PurposeType, ResearchPurpose
from consent.engine import (
    ConsentSnapshot,
    DecisionRequest,
    NoticeFact,
    ProjectFacts,
    RegimeRule,
    RegimeTable,
    decide,
    decide_many,
    parse_state,
)

AT = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
START = datetime(2025, 12, 31, 15, 0, tzinfo=UTC)
PROJECT = "11111111-1111-1111-1111-111111111111"
UNIVERSITY = "22222222-2222-2222-2222-222222222222"
OTHERS = [f"33333333-3333-3333-3333-33333333333{i}" for i in range(5)]
CATEGORIES = ["diagnoses", "lab_results", "prescriptions", "vital_signs", "genomics", "sensitive_diagnoses"]
CLASSES = ["primary_care", "academic_research", "commercial_rnd", "public_health"]
TERMS: list[dict[str, Any]] = [
    {"permission": "HMB", "modifiers": ["NCU"], "consented_at": "2026-01-15"},
    {
        "permission": "DS",
        "diseases": ["C00-C97"],
        "modifiers": ["NCU", "IRB", "GS", "MOR"],
        "parameters": {"GS": ["JP"], "MOR": "2027-04-01"},
        "consented_at": "2026-02-01",
    },
    {"permission": "GRU", "modifiers": ["NPU", "PUB"], "consented_at": "2026-03-10"},
    {"permission": "DS", "diseases": ["E10-E14", "I20-I25"], "modifiers": ["IRB"], "consented_at": "2026-04-01"},
    {"permission": "HMB", "modifiers": ["NPUNCU", "TS"], "parameters": {"TS": 60}, "consented_at": "2026-05-05"},
]
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


def regimes() -> RegimeTable:
    return RegimeTable(
        RegimeRule(i, pc, tier, 1, basis, window, pub, com, START, None)
        for i, (pc, tier, basis, window, pub, com) in enumerate(DEFAULTS, start=1)
    )


def request() -> DecisionRequest:
    purpose = ResearchPurpose(
        type=PurposeType.DS,
        at=AT.date(),
        commercial=False,
        for_profit=False,
        genetic=False,
        ethics_approval=True,
        publication=True,
        returns_data=False,
        diseases=("C34",),
        regions=frozenset({"JP"}),
    )
    return DecisionRequest(
        purpose_class="academic_research",
        categories=("diagnoses", "lab_results", "genomics"),
        regimes=regimes(),
        organisation_id=UNIVERSITY,
        project=ProjectFacts(PROJECT, UNIVERSITY, True, date(2026, 1, 1), date(2028, 12, 31)),
        purpose=purpose,
    )


def directives(rng: random.Random) -> list[dict[str, Any]]:
    """One person's directives in engine form; about two persons in three have made some choice."""
    found: list[dict[str, Any]] = []

    def when() -> str:
        return (AT - timedelta(minutes=rng.randint(1, 300 * 24 * 60))).isoformat()

    if rng.random() < 0.08:
        found.append({"kind": "global_opt_out", "at": when()})
    for _ in range(rng.choice([0, 0, 0, 0, 1, 2, 3])):
        found.append(
            {
                "kind": "category",
                "value": rng.choice(["permit", "deny", "deny"]),
                "category": rng.choice(["", *CATEGORIES]),
                "purpose_class": rng.choice(CLASSES),
                "at": when(),
            }
        )
    if rng.random() < 0.05:
        found.append(
            {
                "kind": "organisation_block",
                "organisation": rng.choice([UNIVERSITY, *OTHERS]),
                "purpose_class": rng.choice(["", "primary_care"]),
                "at": when(),
            }
        )
    if rng.random() < 0.10:
        found.append(
            {
                "kind": "project",
                "project": PROJECT,
                "value": rng.choice(["permit", "deny"]),
                "categories": rng.sample(["diagnoses", "lab_results", "genomics"], rng.randint(1, 3)),
                "at": when(),
            }
        )
    if rng.random() < 0.15:
        found.append({"kind": "duo_terms", "terms": rng.choice(TERMS), "at": when()})
    if rng.random() < 0.10:
        found.append({"kind": "contact", "preferences": {"email": True, "sms": rng.random() < 0.5}, "at": when()})
    return found


def workload(persons: int, seed: int = 20261121) -> tuple[list[list[dict[str, Any]]], list[dict[str, Any]]]:
    rng = random.Random(seed)
    entries = [directives(rng) for _ in range(persons)]
    notices = []
    for _ in range(persons):
        roll = rng.random()
        days = 60 if roll < 0.7 else 10 if roll < 0.8 else None
        notices.append({} if days is None else {f"project:{PROJECT}": (NoticeFact(AT - timedelta(days=days), False),)})
    return entries, notices


def best_rate(run: Callable[[], object], items: int, repeat: int) -> float:
    """Items per second of the fastest of ``repeat`` runs (the least disturbed by the machine)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return items / best


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    entries, notices = workload(args.persons)
    states = [
        ConsentSnapshot(f"p{i}", 1, parse_state(e), n) for i, (e, n) in enumerate(zip(entries, notices, strict=True))
    ]
    req = request()
    categories = req.categories
    table = {c: "deny" for c in categories}

    def run_batch() -> None:
        decide_many(states, req, AT)

    def run_single() -> None:
        for state in states:
            decide(state, req, AT)

    def run_baseline() -> None:
        for state in states:
            [(c, table[c], state.version) for c in categories]

    def run_parse() -> None:
        for e in entries:
            parse_state(e)

    run_batch()  # warm the DUO and ICD-10 caches, as a long-running worker would have them
    batch = best_rate(run_batch, len(states), args.repeat)
    single = best_rate(run_single, len(states), max(1, args.repeat // 2))
    baseline = best_rate(run_baseline, len(states), args.repeat)
    parses = best_rate(run_parse, len(entries), max(1, args.repeat // 2))
    decisions = decide_many(states, req, AT)
    permits = sum(d.permitted for d in decisions)
    partial = sum(bool(d.permitted_categories) and not d.permitted for d in decisions)
    with_choices = sum(bool(e) for e in entries)

    print(f"persons: {len(states):,} ({with_choices:,} with choices); categories per decision: {len(categories)}")
    print(f"answers: {permits:,} permit, {partial:,} partly permitted, {len(states) - permits - partial:,} deny")
    print(f"batch decide:   {batch:>12,.0f} decisions/s")
    print(f"single decide:  {single:>12,.0f} decisions/s")
    print(f"loop baseline:  {baseline:>12,.0f} persons/s")
    print(f"state parse:    {parses:>12,.0f} states/s (not timed in decide)")
    figures = {
        "bench": "engine",
        "decisions_per_s": round(batch),
        "single_per_s": round(single),
        "baseline_per_s": round(baseline),
        "ratio": round(batch / baseline, 3),
        "parse_per_s": round(parses),
        "persons": len(states),
        "target_per_s": 20000,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
