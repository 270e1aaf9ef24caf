"""How deep JSON may nest: input past ``MAMORI_JSON_MAX_DEPTH`` is refused before a recursive parser sees it.

Python's ``json``, and every walker over a parsed value (validation, canonical encoding, FHIR narrative
cleaning), recurse once per level: 5,000 brackets in a 10 KB body reach the interpreter's recursion limit and
end as a 500 or a dead worker. The depth is therefore measured on the bytes, by a scan that does not recurse:
strings are cut out by one regular expression (so a ``[`` inside a string does not count), the brackets that
remain are kept, and the running depth is their prefix sum. Every step runs in C, so a body is scanned at
memory speed; :class:`DepthScanner` does the same over a stream in chunks, carrying whether a chunk ended
inside a string or after a backslash.

Unbalanced input counts its unclosed brackets: ``[[[[`` is as deep as it would be once closed, which is how
deep a recursive parser goes before it finds the error.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

# A whole string, and the end of one begun in an earlier chunk; possessive, so a long string never backtracks.
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
_STRING_END = re.compile(rb'[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1
# The lowest MAMORI_JSON_MAX_DEPTH that config/settings.py accepts.
MIN_LIMIT = 8


class TooDeep(ValueError):
    """The JSON nests deeper than the limit; a ValueError, so code that refuses bad JSON refuses it too.

    ``str()`` is English, as the hospital API answers; :meth:`localised` is for a person's upload report.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"The JSON is nested deeper than {limit} levels, the most Mamori accepts.")

    def localised(self) -> str:
        return _("The JSON is nested deeper than %(limit)s levels, the most Mamori accepts.") % {"limit": self.limit}


def max_json_depth() -> int:
    """The deepest nesting accepted in any JSON body, upload or line (``MAMORI_JSON_MAX_DEPTH``)."""
    return int(settings.MAMORI_JSON_MAX_DEPTH)


def _odd_backslashes_at_end(data: bytes) -> bool:
    return (len(data) - len(data.rstrip(b"\\"))) % 2 == 1


class DepthScanner:
    """Follows the nesting depth over consecutive chunks of one JSON text; ``feed`` raises TooDeep past the limit."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = max_json_depth() if limit is None else limit
        self.depth = 0
        self.in_string = False
        self.escaped = False

    def feed(self, chunk: bytes) -> None:
        start = 0
        if self.escaped and chunk:
            start, self.escaped = 1, False
        if self.in_string:
            end = _STRING_END.match(chunk, start)
            if end is None:
                self.escaped = self.escaped or _odd_backslashes_at_end(chunk[start:])
                return
            start, self.in_string = end.end(), False
        # Once whole strings are gone, a quote left over opens a string that goes on past this chunk.
        structure = _STRING.sub(b"", chunk[start:] if start else chunk)
        quote = structure.find(b'"')
        if quote >= 0:
            self.in_string = True
            self.escaped = _odd_backslashes_at_end(structure[quote + 1 :])
            structure = structure[:quote]
        brackets = structure.translate(None, _NOT_BRACKETS)
        if not brackets:
            return
        depths = list(accumulate(map(_STEP.__getitem__, brackets), initial=self.depth))
        self.depth = depths[-1]
        if max(depths) > self.limit:
            raise TooDeep(self.limit)


def check_depth(data: bytes | str, limit: int | None = None) -> None:
    """Raise TooDeep when ``data`` (one whole JSON text) nests deeper than ``limit`` (the setting by default)."""
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    # No more openers than the limit: nothing to scan, which is every ordinary body and line. Counting first
    # keeps this to two C calls on the bulk-check path, which checks every NDJSON line.
    openers = raw.count(b"[") + raw.count(b"{")
    if openers <= MIN_LIMIT:
        return
    limit = max_json_depth() if limit is None else limit
    if openers > limit:
        DepthScanner(limit).feed(raw)


def loads(data: bytes | str, *, limit: int | None = None, **options: Any) -> Any:
    """``json.loads`` after :func:`check_depth`: TooDeep (a ValueError) instead of a RecursionError."""
    check_depth(data, limit)
    return json.loads(data, **options)
