"""Lab tests known under several code systems (JLAC10 and LOINC), so one test's results group together.

Only tests listed here are grouped across systems; any other result groups by its own code. The JLAC10
codes are the 17-digit analyte + identification + material + method codes used by JP Core examples.
"""

from __future__ import annotations

from functools import lru_cache

from phr.records.codes import JLAC_SYSTEMS, LOINC
from phr.records.digests import code_digest

# concept key → codes that mean it (JLAC10 under any JLAC system URI, LOINC under http://loinc.org)
LAB_CONCEPTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "glucose": (("3D010000001926101", "3D010000002227101"), ("2345-7", "2339-0")),
    "hba1c": (("3D046000001906202", "3D046000001920402"), ("4548-4", "17856-6")),
    "creatinine": (("3C015000002327101",), ("2160-0",)),
    "potassium": (("3H015000002326101", "3H015000002327101"), ("2823-3", "6298-4")),
    "albumin": (("3A015000001827101", "3A015000002327101"), ("1751-7",)),
    "egfr": (("8A065000002391901",), ("33914-3", "62238-1", "98979-8")),
    "ldl": (("3F077000002327101",), ("13457-7", "18262-6")),
    "ast": (("3B035000002327201",), ("1920-8",)),
    "alt": (("3B045000002327201",), ("1742-6",)),
}


def concept_by_digest() -> dict[str, str]:
    """code_digest → concept key, for every listed code under every system it may come in."""
    # Keyed by a probe digest, so a changed digest key (tests override settings) computes a new mapping.
    return _mapping_for(code_digest("", ""))


@lru_cache(maxsize=4)
def _mapping_for(probe: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for concept, (jlac_codes, loinc_codes) in LAB_CONCEPTS.items():
        for system in JLAC_SYSTEMS:
            for code in jlac_codes:
                mapping[code_digest(system, code)] = concept
        for code in loinc_codes:
            mapping[code_digest(LOINC, code)] = concept
    return mapping


def digests_of(concept: str) -> list[str]:
    return [digest for digest, key in concept_by_digest().items() if key == concept]
