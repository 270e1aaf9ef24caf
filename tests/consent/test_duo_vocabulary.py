from __future__ import annotations

import pytest

from consent.duo.vocabulary import ParameterKind, TermError, TermKind, parse_vocabulary, vocabulary

PERMISSIONS = {"GRU", "HMB", "DS", "POA", "NRES"}
MODIFIERS = {
    "CC", "NPOA", "NMDS", "GSO", "RS", "NPUNCU", "NPU", "NCU", "PUB",
    "COL", "IRB", "GS", "MOR", "TS", "US", "PS", "IS", "RTN",
}  # fmt: skip


def test_it_loads_every_permission():
    assert {term.shorthand for term in vocabulary().of_kind(TermKind.PERMISSION)} == PERMISSIONS


def test_it_loads_every_modifier():
    assert {term.shorthand for term in vocabulary().of_kind(TermKind.MODIFIER)} == MODIFIERS


def test_it_keeps_curie_label_and_parent_of_a_term():
    hmb = vocabulary().permission("HMB")
    assert hmb.curie == "DUO:0000006"
    assert hmb.label == "health or medical or biomedical research"
    assert hmb.parents == ("DUO:0000042",)


@pytest.mark.parametrize(
    ("shorthand", "curie"), [("HMB", "DUO:0000006"), ("DS", "DUO:0000007"), ("GRU", "DUO:0000042")]
)
def test_it_accepts_shorthand_and_curie_for_the_same_permission(shorthand: str, curie: str):
    assert vocabulary().permission(shorthand) is vocabulary().permission(curie)


def test_it_accepts_shorthand_and_curie_for_the_same_modifier():
    assert vocabulary().modifier("NCU") is vocabulary().modifier("DUO:0000046")


def test_it_ignores_case_and_surrounding_spaces():
    assert vocabulary().modifier(" ncu ").shorthand == "NCU"
    assert vocabulary().permission("duo:0000006").shorthand == "HMB"


def test_it_rejects_an_unknown_term_with_a_clear_error():
    with pytest.raises(TermError, match="not a DUO term") as caught:
        vocabulary().permission("XYZ")
    assert caught.value.term is None


def test_it_rejects_an_unknown_curie():
    with pytest.raises(TermError):
        vocabulary().modifier("DUO:9999999")


def test_it_rejects_an_obsolete_term_and_names_its_replacement():
    with pytest.raises(TermError, match=r"obsolete.*GRU \(DUO:0000042\) \+ CC") as caught:
        vocabulary().permission("GRU-CC")
    assert caught.value.term is not None
    assert caught.value.term.kind is TermKind.OBSOLETE


def test_it_rejects_a_modifier_where_a_permission_is_expected():
    with pytest.raises(TermError, match="not a data-use permission"):
        vocabulary().permission("NCU")


def test_it_rejects_a_permission_where_a_modifier_is_expected():
    with pytest.raises(TermError, match="not a data-use modifier"):
        vocabulary().modifier("HMB")


def test_it_rejects_a_research_purpose_class_as_a_term():
    with pytest.raises(TermError, match="biomedical research"):
        vocabulary().permission("DUO:0000037")


@pytest.mark.parametrize(
    ("shorthand", "kind", "required"),
    [
        ("DS", ParameterKind.DISEASES, True),
        ("GS", ParameterKind.REGIONS, True),
        ("TS", ParameterKind.MONTHS, True),
        ("MOR", ParameterKind.DATE, True),
        ("US", ParameterKind.NAMES, True),
        ("PS", ParameterKind.NAMES, True),
        ("IS", ParameterKind.NAMES, True),
        ("RS", ParameterKind.NAMES, True),
        ("COL", ParameterKind.NAMES, False),
    ],
)
def test_each_parameterised_term_says_which_parameter_it_takes(shorthand: str, kind: ParameterKind, required: bool):
    parameter = vocabulary().lookup(shorthand).parameter
    assert parameter is not None
    assert (parameter.kind, parameter.required) == (kind, required)


@pytest.mark.parametrize("shorthand", ["HMB", "GRU", "NCU", "IRB", "CC", "RTN"])
def test_terms_without_a_value_take_no_parameter(shorthand: str):
    assert vocabulary().lookup(shorthand).parameter is None


def test_terms_keep_the_order_of_the_data_file():
    orders = [term.order for term in vocabulary().terms]
    assert orders == sorted(orders)


def test_it_fails_loudly_on_a_malformed_file():
    header = "id\tshorthand\tlabel\tkind\tparent_ids\tparameter\tdefinition_own_words\n"
    with pytest.raises(ValueError, match="not a DUO CURIE"):
        parse_vocabulary([header, "DUO-6\tHMB\thealth\tpermission\t\t\t\n"])


def test_it_fails_loudly_when_a_parameterised_term_is_missing_from_the_file():
    header = "id\tshorthand\tlabel\tkind\tparent_ids\tparameter\tdefinition_own_words\n"
    with pytest.raises(ValueError, match="parameters declared for terms the vocabulary lacks"):
        parse_vocabulary([header, "DUO:0000006\tHMB\thealth\tpermission\t\t\t\n"])
