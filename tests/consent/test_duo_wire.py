"""The DUO wire form: strict parsing with every problem reported at its JSON Pointer."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consent.duo.matching import match
from consent.duo.terms import PurposeType
from consent.duo.wire import WireError, parse_match_request, result_to_wire

DESIGN_EXAMPLE: dict[str, Any] = {
    "consent": {
        "permission": "DS",
        "diseases": ["C00-C97"],
        "modifiers": ["NCU", "IRB", "GS", "TS", "MOR"],
        "parameters": {"GS": ["JP"], "TS": 24, "MOR": "2027-04-01", "US": [], "PS": [], "IS": [], "RS": [], "COL": []},
        "consented_at": "2026-01-15",
    },
    "purpose": {
        "type": "DS",
        "diseases": ["C34"],
        "commercial": False,
        "for_profit": False,
        "genetic": False,
        "ethics_approval": True,
        "publication": True,
        "returns_data": False,
        "collaborators": [],
        "regions": ["JP"],
        "user": None,
        "project": None,
        "institution": None,
        "topics": [],
        "at": "2026-11-21",
    },
}


MISSING = object()


def example(**changes: Any) -> dict[str, Any]:
    """The design example with changes keyed ``consent__field`` or ``purpose__field``; MISSING deletes one."""
    document = copy.deepcopy(DESIGN_EXAMPLE)
    for path, value in changes.items():
        section, name = path.split("__")
        if value is MISSING:
            del document[section][name]
        else:
            document[section][name] = value
    return document


def problems_of(document: object) -> dict[str, str]:
    with pytest.raises(WireError) as caught:
        parse_match_request(document)
    return {problem.pointer: problem.message_en for problem in caught.value.problems}


def test_it_parses_the_design_example():
    parsed = parse_match_request(DESIGN_EXAMPLE)
    assert parsed.consent.permission_code == "DS"
    assert parsed.consent.diseases == ("C00-C97",)
    assert parsed.consent.modifier_codes == {"NCU", "IRB", "GS", "TS", "MOR"}
    assert parsed.consent.parameters.months == 24
    assert parsed.consent.parameters.moratorium_until == date(2027, 4, 1)
    assert parsed.purpose.type is PurposeType.DS
    assert parsed.purpose.at == date(2026, 11, 21)


def test_it_serialises_the_design_example_answer():
    parsed = parse_match_request(DESIGN_EXAMPLE)
    assert result_to_wire(match(parsed.consent, parsed.purpose), "en") == {
        "decision": "permit",
        "reasons": [],
        "obligations": [{"code": "MOR", "until": "2027-04-01"}],
    }


def test_it_accepts_curies_for_terms_and_parameter_keys():
    document = example(
        consent__permission="DUO:0000007",
        consent__modifiers=["DUO:0000046", "DUO:0000025"],
        consent__parameters={"DUO:0000025": 12},
    )
    parsed = parse_match_request(document)
    assert parsed.consent.permission_code == "DS"
    assert parsed.consent.parameters.months == 12


@pytest.mark.parametrize(("given", "months"), [(24, 24), ("P2Y", 24), ("P18M", 18), ("P1Y6M", 18)])
def test_it_reads_ts_as_months_or_an_iso_8601_duration(given: object, months: int):
    document = example(consent__parameters={"TS": given, "GS": ["JP"], "MOR": "2027-04-01"})
    assert parse_match_request(document).consent.parameters.months == months


def test_it_normalises_icd10_codes():
    parsed = parse_match_request(example(consent__diseases=["c00-c97", "C00-C97"], purpose__diseases=["C341"]))
    assert parsed.consent.diseases == ("C00-C97",)
    assert parsed.purpose.diseases == ("C34.1",)


def test_null_permission_parses_and_then_denies():
    parsed = parse_match_request(example(consent__permission=None, consent__diseases=[]))
    assert parsed.consent.permission is None
    assert not match(parsed.consent, parsed.purpose).permitted


def test_omitted_lists_default_to_empty():
    document = example(**{f"purpose__{name}": MISSING for name in ("collaborators", "topics", "user", "project")})
    parsed = parse_match_request(document)
    assert parsed.purpose.collaborators == frozenset()
    assert parsed.purpose.user is None


@pytest.mark.parametrize(
    ("changes", "pointer", "message"),
    [
        ({"consent__permission": "XYZ"}, "/consent/permission", "not a DUO term"),
        ({"consent__permission": "GRU-CC"}, "/consent/permission", "obsolete"),
        ({"consent__permission": "NCU", "consent__diseases": []}, "/consent/permission", "not a data-use permission"),
        ({"consent__modifiers": ["NCU", "HMB"]}, "/consent/modifiers/1", "not a data-use modifier"),
        ({"consent__modifiers": ["NCU", "NCU", "GS", "TS", "MOR"]}, "/consent/modifiers/1", "listed twice"),
        ({"consent__diseases": ["C34", "lung"]}, "/consent/diseases/1", "not an ICD-10 code"),
        ({"consent__diseases": []}, "/consent/diseases", "DS needs at least one disease"),
        ({"consent__consented_at": "2026-02-30"}, "/consent/consented_at", "YYYY-MM-DD"),
        ({"consent__consented_at": "20260115"}, "/consent/consented_at", "YYYY-MM-DD"),
        ({"consent__consented_at": MISSING}, "/consent/consented_at", "required"),
        ({"consent__consented_at": None}, "/consent/consented_at", "YYYY-MM-DD"),
        ({"consent__extra": 1}, "/consent/extra", "Unknown field"),
        ({"consent__parameters": {"TS": 0, "GS": ["JP"], "MOR": "2027-04-01"}}, "/consent/parameters/TS", "months"),
        ({"consent__parameters": {"TS": True, "GS": ["JP"], "MOR": "2027-04-01"}}, "/consent/parameters/TS", "months"),
        ({"consent__parameters": {"TS": 24, "MOR": "2027-04-01"}}, "/consent/parameters/GS", "needs a parameter"),
        (
            {"consent__parameters": {"TS": 24, "GS": ["JP"], "MOR": "2027-04-01", "US": ["u"]}},
            "/consent/parameters/US",
            "not among the modifiers",
        ),
        (
            {"consent__parameters": {"TS": 24, "GS": ["Japan"], "MOR": "2027-04-01"}},
            "/consent/parameters/GS/0",
            "ISO 3166",
        ),
        ({"consent__parameters": {"NCU": True}}, "/consent/parameters/NCU", "takes no parameter"),
        ({"consent__parameters": {"TS": 24, "DUO:0000025": 12}}, "/consent/parameters/DUO:0000025", "given twice"),
        ({"purpose__type": "RESEARCH"}, "/purpose/type", "one of"),
        ({"purpose__commercial": "no"}, "/purpose/commercial", "true or false"),
        ({"purpose__commercial": MISSING}, "/purpose/commercial", "required"),
        ({"purpose__commercial": None}, "/purpose/commercial", "true or false"),
        ({"purpose__at": MISSING}, "/purpose/at", "required"),
        ({"purpose__diseases": []}, "/purpose/diseases", "DS purpose needs at least one disease"),
        ({"purpose__type": "HMB"}, "/purpose/diseases", "only to DS and MDS"),
        ({"purpose__regions": "JP"}, "/purpose/regions", "list"),
        ({"purpose__user": ""}, "/purpose/user", "non-empty"),
        ({"purpose__user": 7}, "/purpose/user", "non-empty"),
        ({"purpose__unknown": True}, "/purpose/unknown", "Unknown field"),
    ],
)
def test_it_rejects_bad_input_at_its_pointer(changes: dict[str, Any], pointer: str, message: str):
    problems = problems_of(example(**changes))
    assert pointer in problems, problems
    assert message in problems[pointer]


def test_an_invalid_parameter_is_reported_once_not_also_as_missing():
    problems = problems_of(example(consent__parameters={"TS": 24, "GS": ["Japan"], "MOR": "2027-04-01"}))
    assert set(problems) == {"/consent/parameters/GS/0"}


def test_an_invalid_disease_is_reported_once_not_also_as_missing():
    assert set(problems_of(example(purpose__diseases=["lung"]))) == {"/purpose/diseases/0"}


def test_it_rejects_diseases_on_a_permission_other_than_ds():
    problems = problems_of(example(consent__permission="HMB"))
    assert "Diseases apply only to DS" in problems["/consent/diseases"]


def test_it_reports_every_problem_at_once():
    problems = problems_of(example(consent__permission="XYZ", purpose__at="tomorrow", purpose__extra=1))
    assert set(problems) == {"/consent/permission", "/purpose/at", "/purpose/extra"}


def test_it_escapes_pointers_as_rfc_6901_asks():
    assert "/purpose/a~1b~0c" in problems_of(example(**{"purpose__a/b~c": 1}))


def test_it_gives_every_problem_in_japanese_too():
    with pytest.raises(WireError) as caught:
        parse_match_request(example(consent__permission="XYZ"))
    assert caught.value.problems[0].message("ja").startswith("「XYZ」はDUOの用語ではありません")


@pytest.mark.parametrize("document", [None, [], "consent", {"consent": {}}, {"purpose": {}}])
def test_it_rejects_documents_that_are_not_match_requests(document: object):
    with pytest.raises(WireError):
        parse_match_request(document)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_arbitrary_json_is_a_wire_error_never_a_crash(document):
    with pytest.raises(WireError):
        parse_match_request(document)


@given(st.dictionaries(st.sampled_from(sorted(DESIGN_EXAMPLE["purpose"])), json_values, max_size=6))
def test_arbitrary_purpose_fields_parse_or_fail_cleanly(changes):
    document = copy.deepcopy(DESIGN_EXAMPLE)
    document["purpose"].update(changes)
    problems: tuple[object, ...] | None = None
    try:
        parse_match_request(document)
    except WireError as error:
        problems = error.problems
    assert problems is None or len(problems) > 0
