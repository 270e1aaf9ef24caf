"""The GA4GH Data Use Ontology (DUO) vocabulary, loaded from consent/data/duo_terms.tsv.

The TSV is the data; this module types it. Only permissions (the primary "what for" term) and
modifiers (conditions added to it) can appear in consent terms. Obsolete terms, root classes and
research-purpose classes are in the file too, so that naming one gives a precise error instead of
"unknown".

What the TSV cannot say in machine-readable form is which parameter a term takes (its ``parameter``
column is prose), so :data:`PARAMETERS` states it here and loading fails if the two disagree.
"""

from __future__ import annotations

import csv
import enum
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "duo_terms.tsv"

_CURIE = re.compile(r"^DUO:\d{7}$")


class TermKind(enum.StrEnum):
    """Where a row of the vocabulary sits in DUO."""

    PERMISSION = "permission"
    MODIFIER = "modifier"
    OBSOLETE = "obsolete"
    OTHER = "other"


class ParameterKind(enum.StrEnum):
    """The kind of value a term is restricted to."""

    DISEASES = "diseases"  # ICD-10 codes, blocks or chapters; DS carries them in ``consent.diseases``
    REGIONS = "regions"  # ISO 3166 country or subdivision codes
    MONTHS = "months"  # a whole number of months
    DATE = "date"  # an ISO 8601 calendar date
    NAMES = "names"  # a list of identifiers: users, projects, institutions, investigators, topics


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    """What parameter a term takes and whether the term means anything without it."""

    kind: ParameterKind
    required: bool


# COL may name the original investigators, or not: "collaborate with the original study" is enough.
PARAMETERS: MappingProxyType[str, ParameterSpec] = MappingProxyType(
    {
        "DS": ParameterSpec(ParameterKind.DISEASES, required=True),
        "GS": ParameterSpec(ParameterKind.REGIONS, required=True),
        "TS": ParameterSpec(ParameterKind.MONTHS, required=True),
        "MOR": ParameterSpec(ParameterKind.DATE, required=True),
        "US": ParameterSpec(ParameterKind.NAMES, required=True),
        "PS": ParameterSpec(ParameterKind.NAMES, required=True),
        "IS": ParameterSpec(ParameterKind.NAMES, required=True),
        "RS": ParameterSpec(ParameterKind.NAMES, required=True),
        "COL": ParameterSpec(ParameterKind.NAMES, required=False),
    }
)


@dataclass(frozen=True, slots=True)
class Term:
    """One DUO class: CURIE (``DUO:0000006``), shorthand (``HMB``), label and the parameter it takes."""

    curie: str
    shorthand: str
    label: str
    kind: TermKind
    parents: tuple[str, ...]
    definition: str
    parameter: ParameterSpec | None
    # Position in the vocabulary file: the one order in which terms and their reasons are listed.
    order: int

    def __str__(self) -> str:
        return self.shorthand or self.curie


class TermError(ValueError):
    """A text that does not name a permission or modifier that consent terms can use.

    ``term`` is the term it did name, if any (obsolete, or of another kind), so callers can explain.
    """

    def __init__(self, message: str, *, text: str, term: Term | None = None) -> None:
        super().__init__(message)
        self.text = text
        self.term = term


class Vocabulary:
    """Every DUO term in the data file, looked up by CURIE or shorthand."""

    __slots__ = ("_by_key", "terms")

    def __init__(self, terms: tuple[Term, ...]) -> None:
        self.terms = terms
        self._by_key: dict[str, Term] = {}
        for term in terms:
            self._by_key[term.curie] = term
            if term.shorthand:
                self._by_key[term.shorthand.upper()] = term

    def lookup(self, text: str) -> Term:
        """The term named by ``text`` (shorthand or CURIE, any case), whatever its kind."""
        term = self._by_key.get(text.strip().upper())
        if term is None:
            raise TermError(
                f"{text!r} is not a DUO term (give a shorthand such as HMB or a CURIE such as DUO:0000006)", text=text
            )
        return term

    def permission(self, text: str) -> Term:
        """The data-use permission named by ``text``, or TermError."""
        return self._of_kind(text, TermKind.PERMISSION)

    def modifier(self, text: str) -> Term:
        """The data-use modifier named by ``text``, or TermError."""
        return self._of_kind(text, TermKind.MODIFIER)

    def _of_kind(self, text: str, kind: TermKind) -> Term:
        term = self.lookup(text)
        if term.kind is kind:
            return term
        if term.kind is TermKind.OBSOLETE:
            raise TermError(f"{text!r} ({term.curie}) is obsolete in DUO: {term.definition}", text=text, term=term)
        raise TermError(f"{text!r} ({term.curie}, {term.label}) is not a data-use {kind.value}", text=text, term=term)

    def of_kind(self, kind: TermKind) -> tuple[Term, ...]:
        """Every term of one kind, in vocabulary order."""
        return tuple(term for term in self.terms if term.kind is kind)


def _kind(raw: str) -> TermKind:
    if raw in (TermKind.PERMISSION, TermKind.MODIFIER, TermKind.OBSOLETE):
        return TermKind(raw)
    return TermKind.OTHER


def parse_vocabulary(lines: list[str]) -> Vocabulary:
    """Read the TSV text (header first) into a Vocabulary; a malformed file raises ValueError."""
    terms: list[Term] = []
    for order, row in enumerate(csv.DictReader(lines, delimiter="\t")):
        curie = row["id"].strip()
        if not _CURIE.match(curie):
            raise ValueError(f"row {order + 2}: {curie!r} is not a DUO CURIE")
        shorthand = (row["shorthand"] or "").strip()
        terms.append(
            Term(
                curie=curie,
                shorthand=shorthand,
                label=row["label"].strip(),
                kind=_kind(row["kind"].strip()),
                parents=tuple(p for p in (row["parent_ids"] or "").split("|") if p.startswith("DUO:")),
                definition=(row["definition_own_words"] or "").strip(),
                parameter=PARAMETERS.get(shorthand),
                order=order,
            )
        )
    usable = {t.shorthand for t in terms if t.kind in (TermKind.PERMISSION, TermKind.MODIFIER)}
    missing = set(PARAMETERS) - usable
    if missing:
        raise ValueError(f"parameters declared for terms the vocabulary lacks: {', '.join(sorted(missing))}")
    return Vocabulary(terms=tuple(terms))


@cache
def vocabulary() -> Vocabulary:
    """The vocabulary shipped with the app, read once per process."""
    with DATA_FILE.open(encoding="utf-8", newline="") as handle:
        return parse_vocabulary(handle.readlines())
