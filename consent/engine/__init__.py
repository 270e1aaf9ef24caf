"""The consent decision engine (DESIGN §4): pure functions over a person's parsed state and a request."""

from consent.engine.decide import PreparedRequest, decide, decide_many, decide_prepared
from consent.engine.state import parse_state, parse_terms
from consent.engine.types import (
    CategoryDecision,
    ConsentSnapshot,
    Decision,
    DecisionBasis,
    DecisionRequest,
    NoticeFact,
    ParsedDirectives,
    ProjectFacts,
    RegimeRule,
    RegimeTable,
    Verdict,
)

__all__ = [
    "CategoryDecision",
    "ConsentSnapshot",
    "Decision",
    "DecisionBasis",
    "DecisionRequest",
    "NoticeFact",
    "ParsedDirectives",
    "PreparedRequest",
    "ProjectFacts",
    "RegimeRule",
    "RegimeTable",
    "Verdict",
    "decide",
    "decide_many",
    "decide_prepared",
    "parse_state",
    "parse_terms",
]
