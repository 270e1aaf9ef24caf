"""The nesting scan agrees with a byte-by-byte reading of JSON for every text and every way of cutting it in chunks."""

from __future__ import annotations

import json
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phr.json_limits import DepthScanner, TooDeep, check_depth, loads

LIMIT = 8


def reference_depth(data: bytes) -> int:
    """The deepest nesting, read one byte at a time: brackets in strings do not count, escapes skip a byte."""
    depth = peak = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == ord("\\"):
                escaped = True
            elif byte == ord('"'):
                in_string = False
        elif byte == ord('"'):
            in_string = True
        elif byte in b"[{":
            depth += 1
            peak = max(peak, depth)
        elif byte in b"]}":
            depth -= 1
    return peak


def scanned_too_deep(data: bytes, cuts: list[int]) -> bool:
    scanner = DepthScanner(LIMIT)
    edges = [0, *sorted(cut % (len(data) + 1) for cut in cuts), len(data)]
    try:
        for start, end in pairwise(edges):
            scanner.feed(data[start:end])
    except TooDeep:
        return True
    return False


strings = st.text(alphabet=st.sampled_from('ab[]{}"\\\n'), max_size=6)
values = st.recursive(
    st.none() | st.integers() | strings,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(strings, inner, max_size=3),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(values, st.integers(min_value=0, max_value=12), st.lists(st.integers(min_value=0), max_size=6))
def test_any_json_text_in_any_chunks_is_as_deep_as_read_byte_by_byte(value: object, wraps: int, cuts: list[int]):
    data = json.dumps([value] if wraps % 2 else {"k": value}).encode()
    data = b'{"w":[' * (wraps // 2) + data + b"]}" * (wraps // 2)

    assert scanned_too_deep(data, cuts) == (reference_depth(data) > LIMIT)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=60).map(lambda b: bytes(b'[]{}"\\a'[x % 7] for x in b)), st.lists(st.integers()))
def test_unbalanced_and_broken_text_counts_its_unclosed_brackets(data: bytes, cuts: list[int]) -> None:
    assert scanned_too_deep(data, [abs(cut) for cut in cuts]) == (reference_depth(data) > LIMIT)


def test_check_depth_refuses_5000_levels_and_names_the_limit() -> None:
    with pytest.raises(TooDeep, match="nested deeper than 64 levels"):
        check_depth(b"[" * 5000 + b"]" * 5000)


def test_loads_refuses_what_json_loads_would_recurse_into_and_accepts_the_rest() -> None:
    with pytest.raises(ValueError, match="64 levels"):
        loads('{"a":' * 5000)
    assert loads('{"note": "' + "[" * 5000 + '"}') == {"note": "[" * 5000}
