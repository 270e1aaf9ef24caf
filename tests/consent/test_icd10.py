from __future__ import annotations

import pytest

from consent.duo.icd10 import DiseaseCodeError, is_within, normalise


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("C34", "C34"),
        ("C34.1", "C34.1"),
        ("C341", "C34.1"),
        (" c34.1 ", "C34.1"),
        ("C30-C39", "C30-C39"),
        ("C00-C97", "C00-C97"),
        ("II", "II"),
        ("ii", "II"),
        ("C00-D48", "II"),
        ("F00-F99", "V"),
        ("A00-B99", "I"),
        ("B20-B24", "B20-B24"),
    ],
)
def test_it_accepts_codes_blocks_and_chapters(text: str, canonical: str):
    assert normalise(text) == canonical


@pytest.mark.parametrize("text", ["", "2", "C34.10", "C99", "XXIII", "C00-C99", "lung cancer", "DUO:0000007"])
def test_it_rejects_what_is_not_icd10(text: str):
    with pytest.raises(DiseaseCodeError, match="not an ICD-10 code"):
        normalise(text)


@pytest.mark.parametrize(
    ("code", "ancestor"),
    [
        ("C34", "C34"),
        ("C34.1", "C34"),
        ("C341", "C34"),
        ("C34", "C30-C39"),
        ("C34", "C00-C97"),
        ("C34.1", "C00-C97"),
        ("C30-C39", "C00-C97"),
        ("C34", "II"),
        ("C34", "C00-D48"),
        ("F32.1", "F00-F99"),
        ("B20", "B20-B24"),
    ],
)
def test_a_code_is_within_itself_and_its_ancestors(code: str, ancestor: str):
    assert is_within(code, ancestor)


@pytest.mark.parametrize(
    ("code", "ancestor"),
    [
        ("C00-C97", "C34"),
        ("C34", "C34.1"),
        ("II", "C00-C97"),
        ("C34", "F00-F99"),
        ("C34", "C15-C26"),
        ("E11", "C00-C97"),
    ],
)
def test_a_code_is_not_within_its_descendants_or_siblings(code: str, ancestor: str):
    assert not is_within(code, ancestor)


def test_is_within_rejects_an_invalid_code():
    with pytest.raises(DiseaseCodeError):
        is_within("C34", "nonsense")


def test_it_caches_hierarchy_lookups():
    is_within("C34.2", "II")
    before = is_within.cache_info().hits
    is_within("C34.2", "II")
    assert is_within.cache_info().hits == before + 1
