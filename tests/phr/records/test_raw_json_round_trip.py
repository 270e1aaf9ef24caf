"""The raw JSON comes back as received: decimals and timestamps byte for byte, NDJSON lines exactly."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phr.models import FhirResource
from phr.records.json_text import dumps, dumps_standard
from phr.records.reader import read_json
from tests.phr.records.conftest import PATIENT, bundle, ingest_bytes, observation, raw_of

RESOURCE = (
    b'{"resourceType":"Observation","id":"glu","status":"final",'
    b'"code":{"text":"\xe8\xa1\x80\xe7\xb3\x96"},"subject":{"reference":"Patient/p1"},'
    b'"effectiveDateTime":"2026-04-01T09:30:00.120+09:00",'
    b'"valueQuantity":{"value":3.10,"unit":"mmol/L"},'
    b'"referenceRange":[{"low":{"value":0.0010},"high":{"value":-0.0}}]}'
)


def test_a_decimal_in_a_bundle_keeps_its_trailing_zero(alice) -> None:
    ingest_bytes(alice, bundle(PATIENT, observation("glu", value="3.10")))

    raw = raw_of(FhirResource.objects.get(person=alice, resource_id="glu"))
    assert b'"value":3.10,' in raw
    assert b'"effectiveDateTime":"2026-04-01T09:30:00+09:00"' in raw


def test_a_bundle_entry_is_stored_with_its_keys_numbers_and_strings_as_sent(alice) -> None:
    data = b'{"resourceType": "Bundle", "type": "collection",\n "entry": [ {"resource": ' + RESOURCE + b"} ]}"

    ingest_bytes(alice, data)

    assert raw_of(FhirResource.objects.get(person=alice, resource_id="glu")) == RESOURCE


def test_an_ndjson_line_is_stored_byte_for_byte(alice) -> None:
    line = RESOURCE.replace(b'"status":"final",', b'"status" : "final" ,')
    ingest_bytes(alice, b'{"resourceType":"Patient","id":"p1"}\n' + line + b"\r\n")

    assert raw_of(FhirResource.objects.get(person=alice, resource_id="glu")) == line


def test_a_single_resource_file_is_stored_byte_for_byte(alice) -> None:
    pretty = RESOURCE.replace(b",", b",\n  ")

    ingest_bytes(alice, b"\n" + pretty + b"\n\n")

    assert raw_of(FhirResource.objects.get(person=alice, resource_id="glu")) == pretty


def test_decimals_reach_validation_as_decimals_not_floats() -> None:
    (entry,) = read_json(io.BytesIO(bundle(observation("glu", value="3.10"))))
    assert entry.resource is not None
    assert entry.resource["valueQuantity"]["value"] == Decimal("3.10")
    assert str(entry.resource["valueQuantity"]["value"]) == "3.10"


@settings(max_examples=200)
@given(st.from_regex(r"(0|-?[1-9][0-9]{0,12})(\.[0-9]{1,12})?|-0\.[0-9]{1,12}", fullmatch=True))
def test_any_number_without_an_exponent_is_written_back_with_the_same_digits(number: str) -> None:
    """All but the integer ``-0``, which JSON parsers read as 0 (see phr.records.json_text)."""
    resource = b'{"resourceType":"Basic","v":' + number.encode() + b"}"
    data = b'{"resourceType":"Bundle","type":"collection","entry":[{"resource":' + resource + b"}]}"
    (entry,) = read_json(io.BytesIO(data))
    assert dumps(entry.resource) == resource


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300)
@given(json_values)
def test_the_fast_writer_gives_the_standard_encoders_text(value: object) -> None:
    """orjson writes resources back; whatever it cannot write (a big integer) falls back to the same text."""
    try:
        expected = dumps_standard(value)
    except UnicodeEncodeError:  # a lone surrogate: neither writer can make UTF-8 of it
        with pytest.raises(UnicodeEncodeError):
            dumps(value)
        return
    assert dumps(value) == expected
