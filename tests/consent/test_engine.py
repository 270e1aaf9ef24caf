"""The decision table of DESIGN §4: each rule, in order, with the reasons and bases it gives."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from consent.engine import DecisionBasis, Verdict, decide, decide_many
from tests.consent.duo_factories import purpose as duo_purpose
from tests.consent.duo_factories import terms as duo_terms
from tests.consent.engine_factories import (
    AT,
    HOSPITAL,
    START,
    UNIVERSITY,
    accept,
    block,
    category,
    decline,
    duo,
    notified,
    opt_out,
    regime_id,
    regimes,
    request,
    state,
)

PERMIT, DENY = Verdict.PERMIT, Verdict.DENY


def one(snapshot, req, when=AT):
    decision = decide(snapshot, req, when)
    (answer,) = decision.categories
    return answer


def codes(answer) -> list[str]:
    return [reason.code for reason in answer.reasons]


# -- rule 0: fail closed -----------------------------------------------------------------------------------


def test_an_unknown_person_is_denied_every_category() -> None:
    decision = decide(None, request(["diagnoses", "genomics"]), AT)
    assert decision.verdict is DENY
    assert [c.verdict for c in decision.categories] == [DENY, DENY]
    assert {r.code for r in decision.reasons} == {"unknown-person"}
    assert decision.consent_version is None


def test_an_unknown_category_is_denied_while_known_ones_are_decided() -> None:
    decision = decide(state(), request(["diagnoses", "dna"]), AT)
    assert [(c.category, c.verdict) for c in decision.categories] == [("diagnoses", PERMIT), ("dna", DENY)]
    assert decision.verdict is DENY
    assert codes(decision.categories[1]) == ["unknown-category"]


def test_a_request_for_no_category_is_denied() -> None:
    decision = decide(state(), request([]), AT)
    assert decision.verdict is DENY
    assert [r.code for r in decision.reasons] == ["no-categories"]
    assert decision.categories == ()
    assert decision.to_wire("en")["categories"] == {}


def test_an_unknown_purpose_class_is_denied() -> None:
    assert codes(one(state(), request(purpose_class="marketing"))) == ["unknown-purpose-class"]


def test_no_regime_in_force_is_denied() -> None:
    answer = one(state(), request(with_project=False), START - timedelta(days=1))
    assert (answer.verdict, codes(answer)) == (DENY, ["no-regime"])


def test_a_project_that_is_not_approved_is_denied_even_for_statutory_use() -> None:
    answer = one(state(), request(purpose_class="public_health", approved=False))
    assert codes(answer) == ["project-not-approved"]


def test_use_outside_the_project_period_is_denied() -> None:
    answer = one(state(), request(period_end=AT.date() - timedelta(days=1)))
    assert codes(answer) == ["outside-project-period"]


def test_an_unreadable_state_denies_everything_but_statutory_use() -> None:
    broken = state({"kind": "telepathy", "at": "2026-01-01T00:00:00+00:00"})
    assert codes(one(broken, request())) == ["state-unreadable"]
    assert one(broken, request(purpose_class="public_health")).verdict is PERMIT


@pytest.mark.parametrize(
    "entry",
    [
        {"kind": "category", "value": "maybe", "category": "diagnoses", "purpose_class": "", "at": "2026-01-01T00:00"},
        {
            "kind": "category",
            "value": "deny",
            "category": "dna",
            "purpose_class": "",
            "at": "2026-01-01T00:00:00+00:00",
        },
        {"kind": "global_opt_out", "at": "yesterday"},
        {"kind": "duo_terms", "terms": {"permission": "XYZ", "consented_at": "2026-01-01"}, "at": "2026-01-01T00:00Z"},
        {"kind": "project", "project": "", "value": "permit", "at": "2026-01-01T00:00:00+00:00"},
    ],
)
def test_any_malformed_directive_makes_the_state_unreadable(entry) -> None:
    assert codes(one(state(entry), request())) == ["state-unreadable"]


# -- rule 1: prohibited and statutory ------------------------------------------------------------------------


def test_a_prohibited_regime_denies_even_an_accepted_project() -> None:
    table = regimes(academic_research_1="prohibited")
    answer = one(state(accept()), request(table=table))
    assert (answer.verdict, answer.basis, answer.rule, codes(answer)) == (
        DENY,
        DecisionBasis.PROHIBITED,
        1,
        ["prohibited"],
    )


def test_statutory_use_is_permitted_whatever_the_person_chose() -> None:
    person = state(opt_out(), block(), category("deny", "diagnoses", "public_health"), decline())
    answer = one(person, request(purpose_class="public_health"))
    assert (answer.verdict, answer.basis, answer.rule) == (PERMIT, DecisionBasis.STATUTORY, 1)
    assert answer.policy == "urn:mamori:regime:public_health:tier-1:v1"


# -- rule 2: the person's project decision -----------------------------------------------------------------


def test_an_accepted_project_is_permitted_for_the_categories_shown() -> None:
    decision = decide(state(accept(["diagnoses"]), notices={}), request(["diagnoses", "lab_results"]), AT)
    first, second = decision.categories
    assert (first.verdict, first.basis, first.rule) == (PERMIT, DecisionBasis.CONSENT, 2)
    assert (second.verdict, codes(second)) == (DENY, ["not-notified"])


def test_an_accepted_project_is_permitted_for_tier_three_data_under_opt_in() -> None:
    answer = one(state(accept(["genomics"])), request(["genomics"]))
    assert (answer.verdict, answer.rule) == (PERMIT, 2)


def test_a_declined_project_is_denied_even_after_notice_and_window() -> None:
    answer = one(state(decline()), request())
    assert (answer.verdict, answer.rule, codes(answer)) == (DENY, 2, ["project-declined"])


def test_a_project_acceptance_wins_over_a_block_and_a_category_refusal() -> None:
    answer = one(state(block(), category("deny", "diagnoses"), accept()), request())
    assert (answer.verdict, answer.rule) == (PERMIT, 2)


def test_the_newest_project_decision_wins_and_a_decline_wins_a_tie() -> None:
    assert one(state(accept(days=-5), decline(days=-2)), request()).verdict is DENY
    assert one(state(decline(days=-5), accept(days=-2)), request()).verdict is PERMIT
    assert one(state(accept(days=-2), decline(days=-2)), request()).verdict is DENY


def test_a_global_opt_out_withdraws_an_earlier_acceptance_but_not_a_later_one() -> None:
    earlier = one(state(accept(days=-20), opt_out(days=-10)), request())
    assert (earlier.verdict, codes(earlier)) == (DENY, ["global-opt-out"])
    later = one(state(opt_out(days=-20), accept(days=-10)), request())
    assert (later.verdict, later.rule) == (PERMIT, 2)


# -- rule 3: organisation blocks ---------------------------------------------------------------------------


def test_a_blocked_requesting_organisation_is_denied() -> None:
    answer = one(state(block()), request())
    assert (answer.verdict, answer.rule, codes(answer)) == (DENY, 3, ["organisation-blocked"])


def test_blocking_another_organisation_changes_nothing() -> None:
    assert one(state(block(HOSPITAL)), request()).verdict is PERMIT


def test_a_block_for_primary_care_is_the_per_organisation_opt_out_of_care_sharing() -> None:
    care = request(purpose_class="primary_care", with_project=False, purpose=duo_purpose("CC"))
    person = state(block(UNIVERSITY, "primary_care"))
    assert codes(one(person, care)) == ["organisation-blocked"]
    assert one(person, request()).verdict is PERMIT
    assert one(state(), care).verdict is PERMIT


# -- rule 4: category directives ---------------------------------------------------------------------------


def test_a_refused_category_is_denied_and_an_allowed_one_permitted() -> None:
    denied = one(state(category("deny", "diagnoses")), request())
    assert (denied.verdict, denied.rule, codes(denied)) == (DENY, 4, ["category-denied"])
    allowed = one(state(category("permit", "genomics"), notices={}), request(["genomics"]))
    assert (allowed.verdict, allowed.basis, allowed.rule) == (PERMIT, DecisionBasis.CONSENT, 4)


def test_a_category_directive_for_another_purpose_class_does_not_apply() -> None:
    assert one(state(category("deny", "diagnoses", "commercial_rnd")), request()).verdict is PERMIT


def test_the_most_specific_category_directive_decides() -> None:
    person = state(category("deny", "", "academic_research"), category("permit", "diagnoses", "academic_research"))
    assert one(person, request()).verdict is PERMIT
    assert one(person, request(["lab_results"])).verdict is DENY


def test_at_equal_specificity_a_refusal_wins() -> None:
    person = state(category("deny", "diagnoses", ""), category("permit", "", "academic_research", days=-1))
    assert codes(one(person, request())) == ["category-denied"]


def test_on_the_same_scope_the_newer_directive_wins() -> None:
    assert (
        one(
            state(category("deny", days=-9) | {"category": "diagnoses"}, category("permit", "diagnoses", days=-1)),
            request(),
        ).verdict
        is PERMIT
    )
    assert (
        one(state(category("permit", "diagnoses", days=-9), category("deny", "diagnoses", days=-1)), request()).verdict
        is DENY
    )


def test_a_category_allow_made_before_a_global_opt_out_is_withdrawn() -> None:
    answer = one(state(category("permit", "genomics", days=-20), opt_out(days=-10)), request(["genomics"]))
    assert codes(answer) == ["global-opt-out"]


# -- rule 5: global opt-out --------------------------------------------------------------------------------


@pytest.mark.parametrize("purpose_class", ["academic_research", "commercial_rnd"])
def test_a_global_opt_out_denies_secondary_use(purpose_class) -> None:
    answer = one(state(opt_out(), notices=notified(commercial=True)), request(purpose_class=purpose_class))
    assert (answer.verdict, answer.rule, codes(answer)) == (DENY, 5, ["global-opt-out"])


def test_a_global_opt_out_does_not_stop_primary_care() -> None:
    care = request(purpose_class="primary_care", with_project=False, purpose=duo_purpose("CC"))
    answer = one(state(opt_out()), care)
    assert (answer.verdict, answer.basis) == (PERMIT, DecisionBasis.OPT_OUT)


# -- rule 6: DUO data-use terms ----------------------------------------------------------------------------


def test_terms_that_do_not_match_deny_with_the_term_as_code() -> None:
    terms = {"permission": "HMB", "modifiers": ["NCU"], "consented_at": "2026-01-15"}
    answer = one(state(duo(terms), notices=notified(commercial=True)), request(purpose_class="commercial_rnd"))
    assert (answer.verdict, answer.rule, codes(answer)) == (DENY, 6, ["NCU"])


def test_terms_that_match_let_the_regime_decide() -> None:
    terms = {"permission": "DS", "diseases": ["C00-C97"], "consented_at": "2026-01-15"}
    answer = one(state(duo(terms)), request())
    assert (answer.verdict, answer.rule) == (PERMIT, 7)


def test_the_disease_hierarchy_holds_in_both_directions() -> None:
    broad = {"permission": "DS", "diseases": ["C00-C97"], "consented_at": "2026-01-15"}
    narrow = {"permission": "DS", "diseases": ["C34"], "consented_at": "2026-01-15"}
    lung = request(purpose=duo_purpose("DS", diseases=("C34",)))
    cancer = request(purpose=duo_purpose("DS", diseases=("C00-C97",)))
    assert one(state(duo(broad)), lung).verdict is PERMIT
    assert one(state(duo(narrow)), cancer).verdict is DENY
    assert codes(one(state(duo(narrow)), cancer)) == ["DS"]


def test_a_moratorium_is_an_obligation_of_the_permit() -> None:
    terms = {
        "permission": "GRU",
        "modifiers": ["MOR"],
        "parameters": {"MOR": "2027-04-01"},
        "consented_at": "2026-01-15",
    }
    decision = decide(state(duo(terms)), request(), AT)
    assert decision.verdict is PERMIT
    assert [(o.code, o.until.isoformat()) for o in decision.obligations] == [("MOR", "2027-04-01")]
    assert decision.to_wire("en")["obligations"] == [{"code": "MOR", "until": "2027-04-01"}]


def test_a_purpose_without_duo_coding_is_denied_when_the_person_set_terms() -> None:
    terms = {"permission": "GRU", "consented_at": "2026-01-15"}
    assert codes(one(state(duo(terms)), request(purpose=None))) == ["purpose-not-coded"]
    assert one(state(), request(purpose=None)).verdict is PERMIT


def test_terms_do_not_apply_to_primary_care() -> None:
    terms = {"permission": "HMB", "consented_at": "2026-01-15"}
    care = request(purpose_class="primary_care", with_project=False, purpose=duo_purpose("CC"))
    assert one(state(duo(terms)), care).verdict is PERMIT


# -- rule 7: the regime default ----------------------------------------------------------------------------


def test_opt_in_without_consent_is_denied() -> None:
    answer = one(state(), request(["genomics"]))
    assert (answer.verdict, answer.basis, answer.rule, codes(answer)) == (
        DENY,
        DecisionBasis.OPT_IN,
        7,
        ["opt-in-required"],
    )


def test_opt_out_without_a_notice_is_denied_as_not_notified() -> None:
    answer = one(state(notices={}), request())
    assert (answer.verdict, answer.basis, codes(answer)) == (DENY, DecisionBasis.NOTICE, ["not-notified"])


def test_opt_out_inside_the_objection_window_is_denied() -> None:
    answer = one(state(notices=notified(days_before=10)), request())
    assert codes(answer) == ["notice-window-open"]
    assert (AT + timedelta(days=20)).date().isoformat() in answer.reasons[0].message_en


def test_opt_out_after_the_window_with_no_objection_is_permitted() -> None:
    answer = one(state(notices=notified(days_before=30)), request())
    assert (answer.verdict, answer.basis, answer.rule) == (PERMIT, DecisionBasis.OPT_OUT, 7)


def test_a_notice_delivered_after_the_decision_time_does_not_count() -> None:
    assert codes(one(state(notices=notified(days_before=-1)), request())) == ["not-notified"]


def test_commercial_use_needs_a_notice_that_stated_it() -> None:
    trial = request(purpose_class="commercial_rnd")
    assert codes(one(state(notices=notified(commercial=False)), trial)) == ["not-notified"]
    assert "commercial" in one(state(notices=notified(commercial=False)), trial).reasons[0].message_en
    assert one(state(notices=notified(commercial=True)), trial).verdict is PERMIT


def test_an_ad_hoc_request_reads_the_notice_of_the_regime_in_force() -> None:
    adhoc = request(with_project=False)
    key = f"regime:{regime_id('academic_research', 1)}"
    assert codes(one(state(), adhoc)) == ["not-notified"]
    assert one(state(notices=notified(key=key)), adhoc).verdict is PERMIT


def test_primary_care_counts_the_regime_publication_as_the_notice() -> None:
    care = request(["diagnoses", "vital_signs"], purpose_class="primary_care", with_project=False, purpose=None)
    decision = decide(state(notices={}), care, AT)
    assert decision.verdict is PERMIT
    assert {c.basis for c in decision.categories} == {DecisionBasis.OPT_OUT}


def test_primary_care_of_tier_three_data_needs_consent() -> None:
    care = request(["sensitive_diagnoses"], purpose_class="primary_care", with_project=False, purpose=None)
    assert codes(one(state(), care)) == ["opt-in-required"]


# -- the answer as a whole ---------------------------------------------------------------------------------


def test_the_answer_is_permit_only_when_every_category_is_permitted() -> None:
    decision = decide(state(), request(["diagnoses", "genomics"]), AT)
    assert decision.verdict is DENY
    assert decision.permitted_categories == ("diagnoses",)
    assert decision.consent_version == 3


def test_every_reason_has_a_japanese_and_an_english_message() -> None:
    decision = decide(state(opt_out()), request(["diagnoses", "genomics", "dna"]), AT)
    for reason in decision.reasons:
        assert reason.message_ja and reason.message_en
    wire = decision.to_wire("ja")
    assert wire["decision"] == "deny"
    assert wire["categories"]["diagnoses"] == {"decision": "deny", "basis": "objection"}


def test_batch_answers_equal_single_answers() -> None:
    people = [state(), state(opt_out()), None, state(decline()), state(notices={})]
    req = request(["diagnoses", "genomics"])
    assert decide_many(people, req, AT) == [decide(p, req, AT) for p in people]


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        decide(state(), request(), AT.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("permission", "modifiers", "purpose_kind", "purpose_fields", "expected"),
    [
        ("NRES", (), "CC", {}, "permit"),
        ("GRU", (), "POA", {}, "permit"),
        ("GRU", (), "CC", {}, "GRU"),
        ("HMB", (), "DS", {}, "permit"),
        ("HMB", (), "POA", {}, "HMB"),
        ("HMB", (), "GRU", {}, "HMB"),
        ("DS", (), "DS", {"diseases": ("C34.1",)}, "permit"),
        ("DS", (), "DS", {"diseases": ("E11",)}, "DS"),
        ("DS", (), "HMB", {}, "DS"),
        ("POA", (), "POA", {}, "permit"),
        ("POA", (), "HMB", {}, "POA"),
        (None, (), "HMB", {}, "no-permission"),
        ("GRU", ("NPU",), "HMB", {"for_profit": True}, "NPU"),
        ("GRU", ("NCU",), "HMB", {"commercial": True}, "NCU"),
        ("GRU", ("NPUNCU",), "HMB", {"commercial": True}, "NPUNCU"),
        ("GRU", ("NMDS",), "MDS", {}, "NMDS"),
        ("GRU", ("GSO",), "HMB", {"genetic": False}, "GSO"),
        ("GRU", ("IRB",), "HMB", {"ethics_approval": False}, "IRB"),
        ("GRU", ("PUB",), "HMB", {"publication": False}, "PUB"),
        ("GRU", ("COL",), "HMB", {"collaborators": frozenset()}, "COL"),
        ("GRU", ("RTN",), "HMB", {"returns_data": False}, "RTN"),
        ("GRU", ("GS",), "HMB", {"regions": frozenset({"US"})}, "GS"),
        ("GRU", ("TS",), "HMB", {}, "TS"),
        ("GRU", ("US",), "HMB", {"user": "someone-else"}, "US"),
        ("GRU", ("PS",), "HMB", {"project": "other-project"}, "PS"),
        ("GRU", ("IS",), "HMB", {"institution": "other-univ"}, "IS"),
        ("GRU", ("NPOA",), "POA", {}, "NPOA"),
        ("GRU", ("RS",), "HMB", {"topics": frozenset({"cardiology"})}, "RS"),
        ("GRU", ("MOR",), "HMB", {}, "permit"),
        ("HMB", ("CC",), "CC", {}, "permit"),
    ],
)
def test_every_duo_term_is_honoured_by_the_engine(
    permission, modifiers, purpose_kind, purpose_fields, expected
) -> None:
    # The purpose is dated by the decision; a one-month limit from January has passed by November.
    limit: dict[str, Any] = {"months": 1} if "TS" in modifiers else {}
    terms = duo_terms(permission, *modifiers, diseases=("C00-C97",) if permission == "DS" else (), **limit)
    purpose = duo_purpose(purpose_kind, **purpose_fields)
    answer = one(state(terms=(terms,)), request(purpose=purpose))
    if expected == "permit":
        assert answer.verdict is PERMIT, codes(answer)
    else:
        assert (answer.verdict, answer.rule) == (DENY, 6)
        assert expected in codes(answer)
