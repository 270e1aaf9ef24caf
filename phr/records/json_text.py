"""Writing a parsed JSON value back to text without losing what FHIR cares about.

``ijson`` parses numbers as ``int`` or ``Decimal`` (never float), so a decimal keeps its digits: ``3.10``
stays ``3.10``, ``-0.0`` stays ``-0.0``. What is *not* kept from the original text: insignificant
whitespace, the escape form of a string (``"\\u3042"`` is written ``"あ"``; the string is the same),
exponent notation (``1e2`` is written ``1E+2``, ``1.5e-7`` is written ``0.00000015``; the number and
its significant digits are the same), the sign of the integer ``-0`` (written ``0``; ``-0.0`` keeps its
sign), and duplicate object keys (the last one wins, as in every JSON parser). Key order is kept.
"""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal

import orjson

JSONValue = object

# Decimals are written by the C encoder as marked strings, then unquoted. The mark holds a NUL (escaped
# as \u0000 in the output) and a per-process random nonce, so no string in a resource can imitate it.
_NONCE = secrets.token_hex(8)
_MARK = f"\x00{_NONCE}"
_ESCAPED_MARK = re.escape(json.dumps(_MARK)[1:-1])
_MARKED = re.compile(f'"{_ESCAPED_MARK}([-+0-9.E]+){_ESCAPED_MARK}"')


def decimal_text(value: Decimal) -> str:
    """A decimal as JSON number text: positional whenever it has a fractional part (never ``1E-7``)."""
    if not value.is_finite():
        raise ValueError("JSON has no NaN or Infinity")
    exponent = value.as_tuple().exponent
    # str() would write 0.0000001 as 1E-7; only numbers sent with a positive exponent keep one (1E+2).
    return format(value, "f") if isinstance(exponent, int) and exponent < 0 else str(value)


def _mark_decimal(value: object) -> str:
    if isinstance(value, Decimal):
        return f"{_MARK}{decimal_text(value)}{_MARK}"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _fragment(value: object) -> orjson.Fragment:
    if isinstance(value, Decimal):
        return orjson.Fragment(decimal_text(value))
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def dumps(value: JSONValue) -> bytes:
    """Compact JSON text (UTF-8) of a value parsed by ijson, with decimals written as received.

    orjson writes it (every ingested resource is written back: 15 times faster than the standard
    encoder); what orjson refuses (an integer beyond 64 bits, a lone surrogate) goes through the standard
    encoder, which writes the same text where it can and raises where it cannot, as before. orjson's
    result keeps the buffer it grew (about 13 times the text), and ingest holds a batch of these: the
    text is copied into a bytes object of its own size."""
    try:
        return bytes(memoryview(orjson.dumps(value, default=_fragment)))
    except orjson.JSONEncodeError:
        return dumps_standard(value)


def dumps_standard(value: JSONValue) -> bytes:
    """The same text as ``dumps``, by the standard library's encoder (decimals marked, then unquoted)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_mark_decimal)
    if _NONCE in text:
        text = _MARKED.sub(r"\1", text)
    return text.encode("utf-8")
