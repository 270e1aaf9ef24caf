"""The lab grouping map: the common Japanese lab tests, every fixture lab code grouped, a malformed map refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from phr.models import Person
from phr.records.codes import JLAC_SYSTEMS, LOINC, main_code
from phr.records.lab_codes import lab_concepts, parse_concepts
from phr.records.labs import lab_history, latest_labs
from tests.phr.records.conftest import JP_CORE
from tests.portal.test_records_fixtures import observation, seed_record

ROOT = Path(__file__).resolve().parents[3]
# The demo's copies and the shared JP Core examples (at the fixed path every fixture test reads them from).
FIXTURE_DIRS = [ROOT / "phr" / "demo" / "fixtures" / "jp-core", JP_CORE]


def _resources(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if "resourceType" in value:
            yield value
        for item in value.values():
            yield from _resources(item)
    elif isinstance(value, list):
        for item in value:
            yield from _resources(item)


def _is_lab(resource: dict[str, Any]) -> bool:
    return resource.get("resourceType") == "Observation" and "laboratory" in json.dumps(resource.get("category", []))


def fixture_lab_codes() -> set[tuple[str, str]]:
    codes = set()
    for directory in FIXTURE_DIRS:
        for path in directory.glob("*.json") if directory.is_dir() else ():
            for resource in _resources(json.loads(path.read_text(encoding="utf-8"))):
                code = main_code(resource) if _is_lab(resource) else None
                if code is not None:
                    codes.add((code.system, code.code))
    return codes


def test_the_map_covers_at_least_forty_common_tests() -> None:
    concepts = lab_concepts()

    assert len(concepts) >= 40
    for key in (
        "glucose",
        "hba1c",
        "ldl",
        "hdl",
        "triglycerides",
        "ast",
        "alt",
        "ggt",
        "creatinine",
        "egfr",
        "uric_acid",
        "haemoglobin",
        "wbc",
        "platelets",
        "crp",
        "sodium",
        "potassium",
        "urine_protein",
    ):
        assert key in concepts, key
    assert all(c.jlac10 for c in concepts.values())
    assert sum(1 for c in concepts.values() if c.loinc) >= 40


def test_every_lab_code_in_the_jp_core_fixtures_is_grouped() -> None:
    grouped = {(system, code) for c in lab_concepts().values() for code in c.jlac10 for system in JLAC_SYSTEMS}
    grouped |= {(LOINC, code) for c in lab_concepts().values() for code in c.loinc}
    found = fixture_lab_codes()

    assert len(found) >= 3  # the fixtures do carry lab results
    assert found - grouped == set()


def test_a_jlac10_and_a_loinc_sodium_result_are_one_test(alice: Person) -> None:
    jlac = {"coding": [{"system": "urn:oid:1.2.392.200119.4.504", "code": "3H010000002326101", "display": "Na"}]}
    loinc = {"coding": [{"system": LOINC, "code": "2951-2", "display": "Sodium"}]}
    seed_record(
        alice,
        extra=(
            observation(
                "na1",
                value="140",
                code=jlac,
                effectiveDateTime="2026-03-01T09:00:00+09:00",
                valueQuantity={"value": 140, "unit": "mEq/L"},
            ),
            observation(
                "na2",
                value="137",
                code=loinc,
                effectiveDateTime="2026-04-01T09:00:00+09:00",
                valueQuantity={"value": 137, "unit": "mmol/L"},
            ),
        ),
    )

    assert "sodium" in [group.key for group in latest_labs(alice)]
    history = lab_history(alice, "sodium")
    assert history is not None and len(history.values) == 2


def test_a_code_listed_under_two_tests_is_refused() -> None:
    lines = [
        "a\tA\tA\t3H010000002326101\t2951-2\tclins",
        "b\tB\tB\t3H010000002326101\t\tclins",
    ]
    with pytest.raises(ValueError, match="listed under both"):
        parse_concepts(lines)


@pytest.mark.parametrize(
    "line",
    ["a\tA\tA\t3H01000000232610\t\tclins", "a\tA\tA\t3H010000002326101\t2951_2\tclins", "a\tA\tA\t3H010000002326101"],
)
def test_a_malformed_row_is_refused(line: str) -> None:
    with pytest.raises(ValueError, match=r"malformed code|expected 6 columns"):
        parse_concepts([line])
