"""What the engine answers: a decision, every reason for a deny, and the obligations of a permit."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

Language = Literal["ja", "en"]


class Decision(enum.StrEnum):
    """Permit or deny; there is no third answer."""

    PERMIT = "permit"
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a use is denied: the code of the term (or check) that caused it and a plain message."""

    code: str
    message_ja: str
    message_en: str

    def message(self, language: Language) -> str:
        return self.message_en if language == "en" else self.message_ja


@dataclass(frozen=True, slots=True)
class Obligation:
    """A condition the user accepts with a permit, in force until a date (MOR: no publication before it)."""

    code: str
    until: date


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The outcome of matching consent terms against a purpose. A deny always has at least one reason."""

    decision: Decision
    reasons: tuple[Reason, ...] = ()
    obligations: tuple[Obligation, ...] = ()

    @classmethod
    def of(cls, reasons: Iterable[Reason], obligations: Iterable[Obligation]) -> MatchResult:
        """Deny when there is any reason (and then no obligations), otherwise permit with the obligations."""
        reasons = tuple(reasons)
        if reasons:
            return cls(Decision.DENY, reasons, ())
        return cls(Decision.PERMIT, (), tuple(obligations))

    @property
    def permitted(self) -> bool:
        return self.decision is Decision.PERMIT
