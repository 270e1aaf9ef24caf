"""Lab tests known under several code systems (JLAC10 and LOINC), so one test's results group together.

The list lives in ``data/lab_concepts.tsv`` with its sources: the JP-CLINS core laboratory item set and the
特定健診 (specific health check) codes for JLAC10, hand-picked LOINC equivalents. Only tests listed there are
grouped across systems; any other result groups by its own code. JLAC10 codes are the 17-character
analyte + identification + material + method + result codes, accepted under any JLAC system URI.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from phr.records.codes import JLAC_SYSTEMS, LOINC
from phr.records.digests import code_digest

DATA_FILE = Path(__file__).with_name("data") / "lab_concepts.tsv"
_JLAC10 = re.compile(r"^[0-9][A-Z0-9]{16}$")
_LOINC = re.compile(r"^[0-9]{1,7}-[0-9]$")


@dataclass(frozen=True)
class LabConcept:
    """One lab test and every code that means it."""

    key: str
    name_ja: str
    name_en: str
    jlac10: tuple[str, ...]
    loinc: tuple[str, ...]


def parse_concepts(lines: list[str]) -> dict[str, LabConcept]:
    """Read the TSV, refusing a malformed code, a repeated key or a code listed under two concepts."""
    concepts: dict[str, LabConcept] = {}
    owner: dict[str, str] = {}
    rows = csv.reader((line for line in lines if line.strip() and not line.startswith("#")), delimiter="\t")
    for number, row in enumerate(rows, start=1):
        if len(row) != 6:
            raise ValueError(f"lab concept row {number}: expected 6 columns, found {len(row)}")
        key, name_ja, name_en, jlac10, loinc, _sources = row
        concept = LabConcept(key, name_ja, name_en, tuple(jlac10.split()), tuple(loinc.split()))
        if key in concepts:
            raise ValueError(f"lab concept {key!r} is listed twice")
        for code in concept.jlac10 + concept.loinc:
            pattern = _JLAC10 if code in concept.jlac10 else _LOINC
            if not pattern.match(code):
                raise ValueError(f"lab concept {key!r}: malformed code {code!r}")
            if code in owner:
                raise ValueError(f"code {code} is listed under both {owner[code]!r} and {key!r}")
            owner[code] = key
        concepts[key] = concept
    return concepts


@cache
def lab_concepts() -> dict[str, LabConcept]:
    return parse_concepts(DATA_FILE.read_text(encoding="utf-8").splitlines())


def concept_by_digest() -> dict[str, str]:
    """code_digest → concept key, for every listed code under every system it may come in."""
    # Keyed by a probe digest, so a changed digest key (tests override settings) computes a new mapping.
    return _mapping_for(code_digest("", ""))


@lru_cache(maxsize=4)
def _mapping_for(probe: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for concept in lab_concepts().values():
        for system in JLAC_SYSTEMS:
            for code in concept.jlac10:
                mapping[code_digest(system, code)] = concept.key
        for code in concept.loinc:
            mapping[code_digest(LOINC, code)] = concept.key
    return mapping


def digests_of(concept: str) -> list[str]:
    return [digest for digest, key in concept_by_digest().items() if key == concept]
