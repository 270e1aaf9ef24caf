"""The canonical bytes of an entry are RFC 8785 JCS, whichever path encodes them."""

from __future__ import annotations

import datetime
import enum

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from phr.tlog.canonical import EncodingError, encode

safe_ints = st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
scalars = st.none() | st.booleans() | safe_ints | st.text() | st.floats(allow_nan=False, allow_infinity=False)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)
entries = st.dictionaries(st.text(max_size=8), values, max_size=6)


class Action(enum.StrEnum):
    READ = "record.read"


@given(entry=entries)
def test_every_entry_encodes_exactly_as_the_rfc_8785_reference_does(entry) -> None:
    assert encode(entry) == rfc8785.dumps(entry)


def test_keys_sort_by_utf16_code_units_as_rfc_8785_section_3_2_3_shows() -> None:
    entry = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }

    encoded = encode(entry).decode()

    order = ["Carriage Return", "One", "Control", "Latin Small Letter O With Diaeresis", "Euro Sign"]
    order += ["Emoji: Grinning Face", "Hebrew Letter Dalet With Dagesh"]
    assert [encoded.index(value) for value in order] == sorted(encoded.index(value) for value in order)
    assert encoded.startswith('{"\\r":"Carriage Return","1":"One","\u0080":"Control"')


def test_an_entry_is_compact_utf8_with_sorted_keys() -> None:
    entry = {"person": "山田", "action": Action.READ, "at": "2026-12-04T18:00:00+00:00", "ids": (2, 1), "n": None}

    assert (
        encode(entry)
        == ('{"action":"record.read","at":"2026-12-04T18:00:00+00:00","ids":[2,1],"n":null,"person":"山田"}').encode()
    )


@pytest.mark.parametrize(
    "entry",
    [
        {"at": datetime.datetime(2026, 12, 4, tzinfo=datetime.UTC)},
        {"id": 2**53},
        {"nested": {1: "x"}},
        {"x": float("nan")},
        {"x": b"bytes"},
    ],
)
def test_values_without_one_json_form_are_refused(entry) -> None:
    with pytest.raises(EncodingError):
        encode(entry)
