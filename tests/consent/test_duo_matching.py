"""The DUO decision table (DESIGN §5): every permission, every modifier, both ways of the disease hierarchy."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from consent.duo.matching import match
from consent.duo.periods import time_limit_end
from consent.duo.results import Decision, MatchResult, Obligation
from consent.duo.terms import ConsentTerms, PurposeType
from consent.duo.vocabulary import Term, TermKind, vocabulary
from tests.consent.duo_factories import CONSENTED_AT, terms
from tests.consent.duo_factories import purpose as make_purpose

ALL_TYPES = [kind.value for kind in PurposeType]


def codes(result: MatchResult) -> list[str]:
    return [reason.code for reason in result.reasons]


def assert_permits(result: MatchResult) -> None:
    assert result.decision is Decision.PERMIT, codes(result)
    assert result.reasons == ()


def assert_denies(result: MatchResult, *expected_codes: str) -> None:
    assert result.decision is Decision.DENY
    assert codes(result) == list(expected_codes)
    assert all(reason.message_ja for reason in result.reasons)
    assert all(reason.message_en for reason in result.reasons)


# Primary terms -------------------------------------------------------------------------------------

PRIMARY_TABLE = [
    ("NRES", ["GRU", "HMB", "DS", "POA", "MDS", "CC"], []),
    ("GRU", ["GRU", "HMB", "DS", "POA", "MDS"], ["CC"]),
    ("HMB", ["HMB", "DS", "MDS"], ["GRU", "POA", "CC"]),
    ("DS", ["DS", "MDS"], ["GRU", "HMB", "POA", "CC"]),
    ("POA", ["POA"], ["GRU", "HMB", "DS", "MDS", "CC"]),
]


@pytest.mark.parametrize(
    ("permission", "kind"),
    [(permission, kind) for permission, permitted, _ in PRIMARY_TABLE for kind in permitted],
)
def test_it_permits_purposes_inside_the_permission(permission: str, kind: str):
    diseases = ("C00-C97",) if permission == "DS" else ()
    assert_permits(match(terms(permission, diseases=diseases), make_purpose(kind)))


@pytest.mark.parametrize(
    ("permission", "kind"),
    [(permission, kind) for permission, _, denied in PRIMARY_TABLE for kind in denied],
)
def test_it_denies_purposes_outside_the_permission_naming_it(permission: str, kind: str):
    diseases = ("C00-C97",) if permission == "DS" else ()
    assert_denies(match(terms(permission, diseases=diseases), make_purpose(kind)), permission)


@pytest.mark.parametrize("kind", ALL_TYPES)
def test_it_denies_everything_without_a_primary_term(kind: str):
    assert_denies(match(terms(None, "CC"), make_purpose(kind)), "no-permission")


def test_it_says_in_plain_words_why_hmb_excludes_ancestry():
    reason = match(terms("HMB"), make_purpose("POA")).reasons[0]
    assert "祖先" in reason.message_ja
    assert "ancestry" in reason.message_en


# Disease hierarchy under DS --------------------------------------------------------------------------


def test_it_permits_a_lung_cancer_study_under_consent_for_all_malignant_neoplasms():
    assert_permits(match(terms("DS", diseases=("C00-C97",)), make_purpose("DS", diseases=("C34",))))


def test_it_denies_a_study_of_all_malignant_neoplasms_under_consent_for_lung_cancer_only():
    result = match(terms("DS", diseases=("C34",)), make_purpose("DS", diseases=("C00-C97",)))
    assert_denies(result, "DS")
    assert "C00-C97" in result.reasons[0].message_en


@pytest.mark.parametrize(
    ("consented", "studied"),
    [
        (("C34",), ("C34.1",)),
        (("II",), ("C34.1",)),
        (("C30-C39",), ("C34", "C32")),
        (("C00-C97", "E10-E14"), ("C34", "E11")),
        (("C34",), ("C34",)),
    ],
)
def test_it_permits_a_ds_purpose_whose_every_disease_lies_inside_a_consented_one(consented, studied):
    assert_permits(match(terms("DS", diseases=consented), make_purpose("DS", diseases=studied)))


def test_it_denies_a_ds_purpose_with_one_disease_outside_and_names_that_disease():
    result = match(terms("DS", diseases=("C00-C97",)), make_purpose("DS", diseases=("C34", "E11")))
    assert_denies(result, "DS")
    assert "E11" in result.reasons[0].message_en
    assert "C34" not in result.reasons[0].message_en.split(";")[1]


def test_it_denies_ds_terms_that_name_no_disease():
    assert_denies(match(terms("DS"), make_purpose("DS")), "DS")


def test_it_denies_a_disease_specific_purpose_that_names_no_disease_under_ds():
    assert_denies(match(terms("DS", diseases=("C34",)), make_purpose("DS", diseases=())), "DS")


# Methods development -----------------------------------------------------------------------------------


@pytest.mark.parametrize("permission", ["GRU", "HMB", "NRES"])
def test_it_permits_methods_development_under_broad_terms(permission: str):
    assert_permits(match(terms(permission), make_purpose("MDS", diseases=())))


def test_it_permits_methods_development_for_the_consented_diseases_under_ds():
    assert_permits(match(terms("DS", diseases=("C00-C97",)), make_purpose("MDS", diseases=("C34",))))


def test_it_denies_methods_development_outside_the_consented_diseases_under_ds():
    assert_denies(match(terms("DS", diseases=("C34",)), make_purpose("MDS", diseases=("E11",))), "DS")


def test_it_denies_general_methods_development_under_ds():
    assert_denies(match(terms("DS", diseases=("C34",)), make_purpose("MDS", diseases=())), "DS")


@pytest.mark.parametrize("permission", ["GRU", "HMB", "NRES"])
def test_it_denies_methods_development_under_nmds_without_disease_bounds(permission: str):
    assert_denies(match(terms(permission, "NMDS"), make_purpose("MDS", diseases=("C34",))), "NMDS")


def test_it_permits_methods_development_for_the_consented_diseases_under_ds_and_nmds():
    assert_permits(match(terms("DS", "NMDS", diseases=("C00-C97",)), make_purpose("MDS", diseases=("C34",))))


def test_it_denies_methods_development_outside_the_diseases_under_ds_and_nmds_for_both_reasons():
    result = match(terms("DS", "NMDS", diseases=("C34",)), make_purpose("MDS", diseases=("E11",)))
    assert_denies(result, "DS", "NMDS")


def test_nmds_leaves_research_that_is_not_methods_development_alone():
    assert_permits(match(terms("HMB", "NMDS"), make_purpose("HMB")))


# Clinical care ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("permission", ["GRU", "HMB", "POA"])
def test_it_permits_clinical_care_when_the_terms_carry_cc(permission: str):
    assert_permits(match(terms(permission, "CC"), make_purpose("CC")))


def test_it_permits_clinical_care_under_ds_with_cc():
    assert_permits(match(terms("DS", "CC", diseases=("C34",)), make_purpose("CC")))


def test_cc_does_not_widen_research_under_a_narrower_permission():
    assert_denies(match(terms("HMB", "CC"), make_purpose("POA")), "HMB")


def test_clinical_care_is_still_bound_by_the_other_modifiers():
    assert_denies(match(terms("GRU", "CC", "NCU"), make_purpose("CC", commercial=True)), "NCU")


# Modifiers -------------------------------------------------------------------------------------------

MODIFIER_DENIALS = [
    ("NPU", {"for_profit": True}),
    ("NCU", {"commercial": True}),
    ("GSO", {"genetic": False}),
    ("IRB", {"ethics_approval": False}),
    ("PUB", {"publication": False}),
    ("RTN", {"returns_data": False}),
    ("COL", {"collaborators": frozenset()}),
    ("GS", {"regions": frozenset({"US"})}),
    ("GS", {"regions": frozenset()}),
    ("TS", {"at": date(2028, 1, 16)}),
    ("US", {"user": "someone-else"}),
    ("US", {"user": None}),
    ("PS", {"project": "project-2"}),
    ("PS", {"project": None}),
    ("IS", {"institution": "pharma-1"}),
    ("IS", {"institution": None}),
    ("RS", {"topics": frozenset({"cardiology"})}),
    ("RS", {"topics": frozenset()}),
    ("NPOA", {"type": PurposeType.POA}),
]


@pytest.mark.parametrize(("modifier", "change"), MODIFIER_DENIALS)
def test_each_modifier_denies_a_purpose_that_breaks_it(modifier: str, change: dict[str, object]):
    assert_denies(match(terms("GRU", modifier), make_purpose("HMB", **change)), modifier)


@pytest.mark.parametrize("modifier", [term.shorthand for term in vocabulary().of_kind(TermKind.MODIFIER)])
def test_each_modifier_permits_a_purpose_that_meets_it(modifier: str):
    assert_permits(match(terms("GRU", modifier), make_purpose("HMB")))


def test_it_denies_commercial_purpose_under_ncu():
    assert_denies(match(terms("HMB", "NCU"), make_purpose("HMB", commercial=True)), "NCU")


def test_it_permits_a_for_profit_requester_doing_non_commercial_research_under_ncu():
    assert_permits(match(terms("HMB", "NCU"), make_purpose("HMB", for_profit=True)))


def test_it_gives_one_reason_for_each_half_of_npuncu():
    result = match(terms("HMB", "NPUNCU"), make_purpose("HMB", for_profit=True, commercial=True))
    assert_denies(result, "NPUNCU", "NPUNCU")
    assert {reason.message_en for reason in result.reasons} == {
        "Use by for-profit organisations is not allowed.",
        "Commercial use is not allowed.",
    }


@pytest.mark.parametrize("change", [{"for_profit": True}, {"commercial": True}])
def test_npuncu_denies_either_half_alone(change: dict[str, bool]):
    assert_denies(match(terms("HMB", "NPUNCU"), make_purpose("HMB", **change)), "NPUNCU")


def test_col_needs_every_named_investigator_among_the_collaborators():
    consent = terms("GRU", "COL", collaborators=frozenset({"Dr Tanaka", "Dr Sato"}))
    result = match(consent, make_purpose("HMB", collaborators=frozenset({"Dr Tanaka"})))
    assert_denies(result, "COL")
    assert "Dr Sato" in result.reasons[0].message_ja


def test_col_without_named_investigators_needs_some_collaboration():
    consent = terms("GRU", "COL", collaborators=frozenset())
    assert_permits(match(consent, make_purpose("HMB", collaborators=frozenset({"Dr Ito"}))))
    assert_denies(match(consent, make_purpose("HMB", collaborators=frozenset())), "COL")


def test_gs_counts_a_prefecture_as_inside_its_country():
    assert_permits(match(terms("GRU", "GS"), make_purpose("HMB", regions=frozenset({"JP-13"}))))


def test_gs_does_not_count_a_country_as_inside_one_of_its_prefectures():
    consent = terms("GRU", "GS", regions=frozenset({"JP-13"}))
    assert_denies(match(consent, make_purpose("HMB", regions=frozenset({"JP"}))), "GS")


def test_gs_denies_when_any_processing_region_is_outside():
    result = match(terms("GRU", "GS"), make_purpose("HMB", regions=frozenset({"JP", "US"})))
    assert_denies(result, "GS")
    assert "US" in result.reasons[0].message_en


def test_rs_denies_when_any_topic_is_outside_the_listed_ones():
    purpose = make_purpose("HMB", topics=frozenset({"oncology", "cardiology"}))
    assert_denies(match(terms("GRU", "RS"), purpose), "RS")


def test_npoa_denies_ancestry_research_under_gru():
    assert_denies(match(terms("GRU", "NPOA"), make_purpose("POA")), "NPOA")


# Time limit (TS): Civil Code counting, careful at month ends ---------------------------------------------

TS_BOUNDARIES = [
    (date(2026, 1, 15), 24, date(2028, 1, 15)),
    (date(2026, 1, 15), 1, date(2026, 2, 15)),
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2026, 1, 30), 1, date(2026, 2, 28)),
    (date(2027, 2, 28), 1, date(2027, 3, 31)),
    (date(2026, 4, 30), 1, date(2026, 5, 31)),
    (date(2026, 3, 31), 11, date(2027, 2, 28)),
    (date(2026, 12, 31), 1, date(2027, 1, 31)),
    (date(2026, 11, 15), 2, date(2027, 1, 15)),
]


@pytest.mark.parametrize(("consented_at", "months", "last_day"), TS_BOUNDARIES)
def test_ts_permits_use_on_the_last_day_of_the_period(consented_at: date, months: int, last_day: date):
    assert time_limit_end(consented_at, months) == last_day
    consent = terms("GRU", "TS", consented_at=consented_at, months=months)
    assert_permits(match(consent, make_purpose("HMB", at=last_day)))


@pytest.mark.parametrize(("consented_at", "months", "last_day"), TS_BOUNDARIES)
def test_ts_denies_use_the_day_after_the_period(consented_at: date, months: int, last_day: date):
    consent = terms("GRU", "TS", consented_at=consented_at, months=months)
    result = match(consent, make_purpose("HMB", at=last_day + timedelta(days=1)))
    assert_denies(result, "TS")
    assert last_day.isoformat() in result.reasons[0].message_ja


def test_ts_far_in_the_future_never_overflows():
    assert time_limit_end(date(9999, 1, 1), 1200) == date.max


# Moratorium (MOR) ------------------------------------------------------------------------------------


def test_mor_permits_with_an_obligation_not_to_publish_before_the_date():
    result = match(terms("HMB", "MOR"), make_purpose("HMB"))
    assert_permits(result)
    assert result.obligations == (Obligation("MOR", date(2027, 4, 1)),)


def test_mor_has_no_obligation_left_on_or_after_its_date():
    assert match(terms("HMB", "MOR"), make_purpose("HMB", at=date(2027, 4, 1))).obligations == ()


def test_a_deny_carries_no_obligation():
    result = match(terms("HMB", "MOR", "NCU"), make_purpose("HMB", commercial=True))
    assert_denies(result, "NCU")
    assert result.obligations == ()


# Fail closed ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("modifier", "missing"),
    [
        ("GS", {"regions": frozenset()}),
        ("TS", {"months": None}),
        ("TS", {"months": 0}),
        ("MOR", {"moratorium_until": None}),
        ("US", {"users": frozenset()}),
        ("PS", {"projects": frozenset()}),
        ("IS", {"institutions": frozenset()}),
        ("RS", {"topics": frozenset()}),
    ],
)
def test_a_modifier_without_its_parameter_denies(modifier: str, missing: dict[str, Any]):
    assert_denies(match(terms("GRU", modifier, **missing), make_purpose("HMB")), modifier)


def test_it_denies_a_modifier_the_engine_has_no_rule_for():
    unknown = Term("DUO:0009999", "ZZZ", "future modifier", TermKind.MODIFIER, (), "", None, 999)
    consent = ConsentTerms(permission=vocabulary().permission("NRES"), modifiers=(unknown,), consented_at=CONSENTED_AT)
    assert_denies(match(consent, make_purpose("HMB")), "unsupported-term")


def test_it_denies_use_dated_before_the_consent_was_given():
    result = match(terms("NRES"), make_purpose("HMB", at=CONSENTED_AT - timedelta(days=1)))
    assert_denies(result, "consent-not-in-force")


def test_it_permits_use_on_the_day_of_consent():
    assert_permits(match(terms("NRES"), make_purpose("HMB", at=CONSENTED_AT)))


def test_consent_terms_refuse_a_modifier_in_place_of_the_permission():
    with pytest.raises(ValueError, match="not a data-use permission"):
        ConsentTerms(permission=vocabulary().modifier("NCU"), consented_at=CONSENTED_AT)


# Every cause, in a stable order --------------------------------------------------------------------------


def test_it_lists_every_denying_reason_in_vocabulary_order():
    consent = terms("HMB", "TS", "IRB", "NCU", "GS", "NPU")
    purpose = make_purpose(
        "POA", commercial=True, for_profit=True, ethics_approval=False, regions=frozenset({"US"}), at=date(2029, 1, 1)
    )
    assert_denies(match(consent, purpose), "HMB", "NPU", "NCU", "IRB", "GS", "TS")


def test_the_order_of_modifiers_given_does_not_change_the_result():
    purpose = make_purpose("HMB", commercial=True, ethics_approval=False)
    assert match(terms("GRU", "NCU", "IRB"), purpose) == match(terms("GRU", "IRB", "NCU"), purpose)


def test_a_modifier_given_twice_counts_once():
    consent = terms("GRU", "NCU", "NCU")
    assert consent.modifiers == (vocabulary().modifier("NCU"),)
    assert_denies(match(consent, make_purpose("HMB", commercial=True)), "NCU")


def test_the_design_example_permits_with_a_moratorium():
    consent = terms("DS", "NCU", "IRB", "GS", "TS", "MOR", diseases=("C00-C97",))
    purpose = make_purpose("DS", diseases=("C34",), genetic=False, returns_data=False)
    result = match(consent, purpose)
    assert_permits(result)
    assert result.obligations == (Obligation("MOR", date(2027, 4, 1)),)
    assert match(replace(consent), purpose) == result
