"""Rules of the DUO engine that must hold for every input, checked with hypothesis."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from consent.duo import reasons
from consent.duo.matching import match
from consent.duo.results import Decision
from consent.duo.terms import ConsentTerms, PurposeType, ResearchPurpose, TermParameters
from consent.duo.vocabulary import Term, TermKind, vocabulary

PERMISSIONS = vocabulary().of_kind(TermKind.PERMISSION)
MODIFIERS = vocabulary().of_kind(TermKind.MODIFIER)
RESTRICTIVE_MODIFIERS = [term for term in MODIFIERS if term.shorthand != "CC"]
DISEASES = ["C00-C97", "C30-C39", "C34", "C34.1", "II", "E10-E14", "E11", "F32", "V", "A00-A09"]
REGIONS = ["JP", "JP-13", "US", "FR"]
NAMES = ["a", "b", "c"]
GENERAL_CODES = {reasons.NO_PERMISSION, reasons.NOT_IN_FORCE, reasons.UNSUPPORTED}

dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2032, 12, 31))
names = st.frozensets(st.sampled_from(NAMES), max_size=3)

parameters = st.builds(
    TermParameters,
    regions=st.frozensets(st.sampled_from(REGIONS), max_size=3),
    months=st.none() | st.integers(min_value=1, max_value=120),
    moratorium_until=st.none() | dates,
    users=names,
    projects=names,
    institutions=names,
    topics=names,
    collaborators=names,
)


@st.composite
def consent_terms(draw: st.DrawFn) -> ConsentTerms:
    permission = draw(st.none() | st.sampled_from(PERMISSIONS))
    is_ds = permission is not None and permission.shorthand == "DS"
    return ConsentTerms(
        permission=permission,
        diseases=tuple(draw(st.lists(st.sampled_from(DISEASES), max_size=3))) if is_ds else (),
        modifiers=tuple(draw(st.lists(st.sampled_from(MODIFIERS), max_size=6))),
        parameters=draw(parameters),
        consented_at=draw(dates),
    )


@st.composite
def purposes(draw: st.DrawFn) -> ResearchPurpose:
    kind = draw(st.sampled_from(list(PurposeType)))
    diseases = (
        draw(st.lists(st.sampled_from(DISEASES), max_size=3)) if kind in (PurposeType.DS, PurposeType.MDS) else []
    )
    return ResearchPurpose(
        type=kind,
        at=draw(dates),
        diseases=tuple(diseases),
        commercial=draw(st.booleans()),
        for_profit=draw(st.booleans()),
        genetic=draw(st.booleans()),
        ethics_approval=draw(st.booleans()),
        publication=draw(st.booleans()),
        returns_data=draw(st.booleans()),
        collaborators=draw(names),
        regions=draw(st.frozensets(st.sampled_from(REGIONS), max_size=3)),
        topics=draw(names),
        user=draw(st.none() | st.sampled_from(NAMES)),
        project=draw(st.none() | st.sampled_from(NAMES)),
        institution=draw(st.none() | st.sampled_from(NAMES)),
    )


def with_modifier(consent: ConsentTerms, modifier: Term) -> ConsentTerms:
    return replace(consent, modifiers=(*consent.modifiers, modifier))


@settings(max_examples=400)
@given(consent_terms(), purposes(), st.sampled_from(RESTRICTIVE_MODIFIERS))
def test_adding_any_restrictive_modifier_never_turns_a_deny_into_a_permit(consent, purpose, modifier):
    before, after = match(consent, purpose), match(with_modifier(consent, modifier), purpose)
    assert set(before.reasons) <= set(after.reasons)
    if before.decision is Decision.DENY:
        assert after.decision is Decision.DENY


@given(consent_terms(), purposes())
def test_adding_cc_changes_nothing_but_clinical_care(consent, purpose):
    if purpose.type is not PurposeType.CC:
        assert match(with_modifier(consent, vocabulary().modifier("CC")), purpose) == match(consent, purpose)


@settings(max_examples=400)
@given(consent_terms(), purposes())
def test_every_deny_has_a_reason_that_names_its_cause(consent, purpose):
    result = match(consent, purpose)
    assert (result.decision is Decision.DENY) == bool(result.reasons)
    named = {consent.permission_code, *consent.modifier_codes} | GENERAL_CODES
    for reason in result.reasons:
        assert reason.code in named
        assert reason.message_ja
        assert reason.message_en


@given(consent_terms(), purposes())
def test_a_deny_carries_no_obligation(consent, purpose):
    result = match(consent, purpose)
    if result.decision is Decision.DENY:
        assert result.obligations == ()


@given(consent_terms(), purposes(), st.randoms(use_true_random=False))
def test_the_result_is_deterministic_whatever_the_modifier_order(consent, purpose, random):
    shuffled = list(consent.modifiers)
    random.shuffle(shuffled)
    assert (
        match(consent, purpose)
        == match(consent, purpose)
        == match(replace(consent, modifiers=tuple(shuffled)), purpose)
    )


@given(consent_terms(), purposes(), st.data())
def test_dropping_diseases_from_a_permitted_purpose_keeps_it_permitted(consent, purpose, data):
    if len(purpose.diseases) < 2 or not match(consent, purpose).permitted:
        return
    kept = data.draw(st.lists(st.sampled_from(purpose.diseases), min_size=1, unique=True))
    assert match(consent, replace(purpose, diseases=tuple(kept))).permitted
