"""The canonical bytes of a log entry: RFC 8785 JSON Canonicalization Scheme (JCS).

One entry always encodes to the same bytes, whoever encodes it (keys sorted by their UTF-16 code units, no
whitespace, UTF-8, the shortest escapes, ECMAScript number form), so anyone can recompute a leaf hash from
an entry's fields with any JCS implementation. Callers give datetimes, UUIDs and decimals as strings.

``rfc8785`` (the implementation sigstore uses) is the reference. It is pure Python, and every event of the
three logs is encoded inside its own transaction, so the common case — no floats, ASCII keys — goes through
orjson, whose output for such values is byte-for-byte JCS; tests/phr/tlog/test_canonical.py holds the two
equal for all inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import rfc8785

_INT_LIMIT = 2**53 - 1  # RFC 8785 §3.2.2.3: beyond it an integer loses precision as an IEEE 754 double


class EncodingError(ValueError):
    """A value JCS cannot encode, or that a log entry must not hold."""


def encode(entry: Mapping[str, Any]) -> bytes:
    """The RFC 8785 canonical JSON bytes of ``entry``; EncodingError for anything but str, int (±2⁵³ - 1),
    float (finite), bool, None, lists, tuples and mappings with str keys."""
    if not isinstance(entry, Mapping):
        raise EncodingError("a log entry is a mapping")
    try:
        if _plain(entry):
            return orjson.dumps(entry, option=orjson.OPT_SORT_KEYS)
        return rfc8785.dumps(_as_json(entry))
    except (rfc8785.CanonicalizationError, orjson.JSONEncodeError) as error:
        raise EncodingError(str(error)) from error


def _plain(value: Any) -> bool:
    """Whether orjson writes ``value`` exactly as JCS does: only exact built-in types, no floats (number
    forms differ), and ASCII keys (UTF-8 and UTF-16 orders differ above U+FFFF). Raises on bad values."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        if not -_INT_LIMIT <= value <= _INT_LIMIT:
            raise EncodingError(f"{value} is beyond the integers JSON numbers hold exactly")
        return True
    if kind is dict:
        return all(type(key) is str and key.isascii() and _plain(item) for key, item in value.items())
    if kind is list:
        return all(_plain(item) for item in value)
    if isinstance(value, str | int | float | list | tuple | Mapping):
        return False  # subclasses, tuples, floats: rfc8785 after _as_json
    raise EncodingError(f"a log entry cannot hold a {kind.__name__}; give it as a string")


def _as_json(value: Any) -> Any:
    """``value`` with mappings as dicts and str/int subclasses (enums, TextChoices) as their plain values."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise EncodingError("the keys of a log entry are strings")
        return {str.__str__(key): _as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_as_json(item) for item in value]
    raise EncodingError(f"a log entry cannot hold a {type(value).__name__}; give it as a string")
