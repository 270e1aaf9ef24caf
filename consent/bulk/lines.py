"""The lines of a bulk check: input lines to identifiers, identifiers to blind indexes, and output lines.

Most files hold plain ``system,value`` lines of printable ASCII: those are recognised by one regular
expression, need no CSV parsing nor Unicode normalisation (ASCII is its own NFKC form) and no JSON or CSV
escaping on the way out. Every other line takes :func:`parse_line`, the general path, so both give the
same identifier for the same line.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from json.encoder import encode_basestring
from typing import IO, Any

from consent.bulk.identifiers import IdentifierRef, InvalidIdentifier, checked, parse_token
from consent.models import BulkCheckFormat
from phr.crypto.blind_index import keyed_blind_index_hmac
from phr.json_limits import TooDeep, check_depth

HEADERS = (b"system,value", b'"system","value"')
_CSV_SPECIAL = frozenset(',"\r\n')
# A value that is printable ASCII without space, quote, comma or backslash: already normalised, and safe
# as it is in JSON, CSV and COPY text.
_PLAIN_VALUE = rb"[!#-+\--\[\]-~]{1,255}"

# (system, normalised value), or None for a line that is not an identifier.
Pair = tuple[str, str]


def is_header(first: bytes, fmt: str) -> bool:
    return fmt == BulkCheckFormat.CSV and first.strip().lstrip(b"\xef\xbb\xbf").lower() in HEADERS


def data_lines(handle: IO[bytes], fmt: str) -> Iterator[bytes]:
    """The file's lines without line ends, the CSV header skipped."""
    first = True
    for raw in handle:
        if first:
            first = False
            if is_header(raw, fmt):
                continue
        yield raw.rstrip(b"\r\n")


def parse_line(raw: bytes, fmt: str, accepted: frozenset[str]) -> IdentifierRef:
    """One input line as an identifier; InvalidIdentifier says what is wrong with it."""
    try:
        text = raw.decode("utf-8").strip().lstrip("\ufeff")
    except UnicodeDecodeError as error:
        raise InvalidIdentifier("The line is not UTF-8.") from error
    if not text:
        raise InvalidIdentifier("The line is empty.")
    if fmt == BulkCheckFormat.NDJSON:
        try:
            check_depth(raw)
            item = json.loads(text)
        except TooDeep as error:
            raise InvalidIdentifier(str(error)) from error
        except ValueError as error:
            raise InvalidIdentifier("The line is not JSON.") from error
        if not isinstance(item, dict):
            raise InvalidIdentifier("Each line is an object {system, value}.")
        return checked(item.get("system"), item.get("value"), accepted)
    try:
        fields = next(csv.reader([text]))
    except csv.Error as error:
        # A carriage return inside the line (lines are split at \n only), or a field past csv's size limit.
        raise InvalidIdentifier("The line holds a carriage return or other text CSV cannot read.") from error
    if len(fields) == 2:
        return checked(fields[0], fields[1], accepted)
    if len(fields) == 1:
        return parse_token(fields[0], accepted)
    raise InvalidIdentifier("A CSV line is system,value or SYSTEM|VALUE.")


class LineParser:
    """Parses the lines of one job (its format and accepted systems) and computes their blind indexes."""

    def __init__(self, fmt: str, accepted: frozenset[str]) -> None:
        self.fmt = fmt
        self.accepted = accepted
        plain_systems = sorted((s for s in accepted if re.fullmatch(_PLAIN_VALUE, s.encode())), key=len, reverse=True)
        pattern = rb"(?:" + b"|".join(re.escape(s.encode()) for s in plain_systems) + rb")," + _PLAIN_VALUE
        self.plain = re.compile(pattern).fullmatch if fmt == BulkCheckFormat.CSV and plain_systems else None
        self.systems = {system.encode(): system for system in plain_systems}

    def parse(self, raws: Sequence[bytes]) -> tuple[list[Pair | None], dict[int, str]]:
        """Each line's identifier (None when it is not one) and, by position, what is wrong with the others."""
        pairs: list[Pair | None] = []
        problems: dict[int, str] = {}
        plain, systems = self.plain, self.systems
        for position, raw in enumerate(raws):
            if plain is not None and plain(raw):
                system, _, value = raw.partition(b",")
                pairs.append((systems[system], value.decode("ascii")))
                continue
            try:
                ref = parse_line(raw, self.fmt, self.accepted)
            except InvalidIdentifier as error:
                pairs.append(None)
                problems[position] = str(error)
            else:
                pairs.append((ref.system, ref.value))
        return pairs, problems


def blind_indexes(pairs: Sequence[Pair]) -> list[str]:
    """``blind_index(system, value)`` of each identifier, whose value is already normalised."""
    base = keyed_blind_index_hmac()
    result = []
    for system, value in pairs:
        digest = base.copy()
        digest.update(f"{system}\x1f{value}".encode())
        result.append(digest.hexdigest())
    return result


class LineWriter:
    """Formats output lines: a results line per input line, a permitted line in the upload's format."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.system_json: dict[str, str] = {}

    def identifier_json(self, system: str, value: str) -> str:
        head = self.system_json.get(system)
        if head is None:
            head = self.system_json[system] = '{"system":' + encode_basestring(system) + ',"value":'
        return head + encode_basestring(value) + "}"

    def permitted_line(self, system: str, value: str, identifier_json: str) -> str:
        if self.fmt == BulkCheckFormat.NDJSON:
            return identifier_json + "\n"
        if not (_CSV_SPECIAL & set(system) or _CSV_SPECIAL & set(value)):
            return f"{system},{value}\n"
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow([system, value])
        return buffer.getvalue()


def invalid_line(line: int, problem: str) -> str:
    """The results line of an input line that is not an identifier."""
    record: dict[str, Any] = {
        "line": line,
        "identifier": None,
        "consent_version": None,
        "decision": "deny",
        "reasons": [{"code": "invalid-identifier", "message": problem}],
        "categories": {},
    }
    return json.dumps(record, ensure_ascii=False) + "\n"
