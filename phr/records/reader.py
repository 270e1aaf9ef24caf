"""Reading uploads as a stream: a FHIR R4 Bundle, a single resource, or NDJSON, one entry at a time.

What "as received" means for the raw JSON each entry carries (``RawEntry.raw``), which is what is
encrypted and stored:

- NDJSON: the exact bytes of the line, without its line terminator and surrounding whitespace.
- A file holding one resource (not a Bundle): the exact bytes of the file, without surrounding whitespace.
- A Bundle: the entry's ``resource`` object, parsed with numbers as ``Decimal`` (so 3.10 stays
  3.10) and written back compactly by ``phr.records.json_text``: the same keys in the same order, the
  same strings (timestamps such as ``2021-07-05T13:08:22+09:00`` are strings and come back unchanged) and
  the same number digits. Whitespace, string escape forms and exponent spelling are not kept (see
  ``json_text``).

Files up to ``WHOLE_DOCUMENT_BYTES`` (8 MB) are parsed in one go, which is faster; larger ones are
streamed, ``ijson`` yielding one entry at a time, so a 200 MB Bundle never sits in memory whole. Both
paths give the same values (numbers as ``int`` or ``Decimal``) and so the same raw bytes.

Bundles nested in a Bundle or an NDJSON line (a document inside a searchset) are opened and their entries
read the same way.

Nesting is bounded (``MAMORI_JSON_MAX_DEPTH``, counted from the top of the file or line): every parser and
walker after this module recurses once per level. The depth is measured on the bytes before anything is
parsed (:mod:`phr.json_limits`); a file that goes deeper somewhere is read event by event instead
(:func:`_read_too_deep`), so that an entry or line past the limit is refused alone, naming the limit, and the
other entries of the same file are imported.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

import ijson
from django.utils.translation import gettext as _
from ijson.common import ObjectBuilder

from phr.json_limits import DepthScanner, TooDeep, check_depth, max_json_depth
from phr.records.json_text import dumps

BUNDLE_TYPES = frozenset({"collection", "document", "searchset", "transaction", "batch"})
# NDJSON lines longer than this are refused as one bad line rather than read into memory.
MAX_LINE_BYTES = 64 * 1024 * 1024
_SNIFF_BYTES = 16 * 1024 * 1024
_PRE_PASS_BYTES = 2048
# Documents up to this size are parsed in one go (json with Decimal, faster); larger ones are streamed.
WHOLE_DOCUMENT_BYTES = 8 * 1024 * 1024
# Read size of the depth scan over a streamed document.
_SCAN_BYTES = 1024 * 1024
_OPEN = frozenset({"start_map", "start_array"})
_CLOSE = frozenset({"end_map", "end_array"})


class MalformedUpload(Exception):
    """The file as a whole cannot be read (not JSON, or not a FHIR resource); the message is safe to show."""


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One resource as received: the JSON text to store and its parsed value (decimals exact).

    ``problem`` is set (and ``resource`` may be None) when the entry cannot be imported; ``skip`` tells
    a skipped entry (nothing to import: no resource, a search outcome) from a rejected one. ``position``
    is ``entry N``, ``line N`` or ``file`` (``entry N › M`` inside a nested Bundle), translated only
    when a report shows it (``report.position_label``).
    """

    raw: bytes
    resource: dict[str, Any] | None
    full_url: str = ""
    position: str = ""
    problem: str = ""
    skip: bool = False


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(raw: bytes) -> Any:
    """Parse JSON text with decimals as ``Decimal`` and without NaN or Infinity; TooDeep past the nesting limit."""
    check_depth(raw)
    return json.loads(raw, parse_float=Decimal, parse_constant=_refuse_constant)


def read_upload(stream: IO[bytes]) -> Iterator[RawEntry]:
    """Entries of an uploaded file (seekable): NDJSON, or a JSON Bundle or single resource."""
    if _looks_like_ndjson(stream):
        yield from read_ndjson(stream)
    else:
        yield from read_json(stream)


def _looks_like_ndjson(stream: IO[bytes]) -> bool:
    """NDJSON when the first line is a whole JSON object and more lines follow it."""
    stream.seek(0)
    first = stream.readline(_SNIFF_BYTES)
    try:
        if not first.endswith(b"\n") or not _is_object_line(first):
            return False
        while True:
            line = stream.readline(_SNIFF_BYTES)
            if not line:
                return False
            if line.strip():
                return True
    except ValueError:
        return False
    finally:
        stream.seek(0)


def _is_object_line(line: bytes) -> bool:
    """The line is a JSON object; one too deep to parse counts when it is braced (it is refused when read)."""
    try:
        return isinstance(loads(line), dict)
    except TooDeep:
        stripped = line.strip()
        return stripped.startswith(b"{") and stripped.endswith(b"}")


def read_ndjson(stream: IO[bytes]) -> Iterator[RawEntry]:
    """One entry per non-blank line; a line that is not a JSON object is a rejected entry, not an error."""
    number = 0
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        position = f"line {number}"
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = stream.readline(MAX_LINE_BYTES)
            yield RawEntry(raw=b"", resource=None, position=position, problem=_("The line is too long."))
            continue
        raw = line.strip()
        if not raw:
            continue
        try:
            value = loads(raw)
        except TooDeep as exc:
            yield RawEntry(raw=b"", resource=None, position=position, problem=exc.localised())
            continue
        except (ValueError, UnicodeDecodeError):
            yield RawEntry(raw=b"", resource=None, position=position, problem=_("The line is not valid JSON."))
            continue
        if not isinstance(value, dict):
            yield RawEntry(raw=b"", resource=None, position=position, problem=_("The line is not a JSON object."))
        elif value.get("resourceType") == "Bundle":
            yield from entries_of_bundle(value, position=position)
        else:
            yield RawEntry(raw=raw, resource=value, position=position)


def read_json(stream: IO[bytes]) -> Iterator[RawEntry]:
    """A Bundle streamed entry by entry, or a single resource. Raises MalformedUpload for broken JSON."""
    if _size(stream) <= WHOLE_DOCUMENT_BYTES:
        yield from _read_whole(stream.read())
        return
    if not _within_depth(stream):
        yield from _read_too_deep(stream)
        return
    try:
        resource_type, bundle_type = _top_level_types(stream)
        if resource_type != "Bundle":
            stream.seek(0)
            yield _single_resource(stream.read())
            return
        _check_bundle_type(bundle_type)
        stream.seek(0)
        for index, entry in enumerate(ijson.items(stream, "entry.item", use_float=False), start=1):
            yield from bundle_entry(entry, position=f"entry {index}")
    except ijson.JSONError as exc:
        raise MalformedUpload(_("The file is not valid JSON.")) from exc
    except UnicodeDecodeError as exc:
        raise MalformedUpload(_("The file is not UTF-8 text.")) from exc


def _within_depth(stream: IO[bytes]) -> bool:
    """The streamed document nests no deeper than the limit (one pass over its bytes, in chunks)."""
    scanner = DepthScanner()
    stream.seek(0)
    try:
        while chunk := stream.read(_SCAN_BYTES):
            scanner.feed(chunk)
    except TooDeep:
        return False
    finally:
        stream.seek(0)
    return True


def _size(stream: IO[bytes]) -> int:
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def _check_bundle_type(bundle_type: Any) -> None:
    if bundle_type not in BUNDLE_TYPES:
        raise MalformedUpload(
            _(
                "A Bundle of type “%(type)s” cannot be imported; "
                "use collection, document, searchset, transaction or batch."
            )
            % {"type": str(bundle_type)[:40]}
        )


def _read_whole(data: bytes) -> Iterator[RawEntry]:
    """A small document parsed in one go: the same values ijson would give, sooner."""
    too_deep = False
    try:
        value = loads(data)
    except TooDeep:
        too_deep = True
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedUpload(_("The file is not valid JSON.")) from exc
    if too_deep:
        yield from _read_too_deep(io.BytesIO(data))
        return
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        raise MalformedUpload(_("The file is not a FHIR resource, a Bundle or NDJSON."))
    if value["resourceType"] != "Bundle":
        yield RawEntry(raw=data.strip(), resource=value, position="file")
        return
    _check_bundle_type(value.get("type"))
    yield from entries_of_bundle(value, position="")


def read_bundle_bytes(data: bytes) -> Iterator[RawEntry]:
    """Entries of a Bundle (or a single resource) held in memory, e.g. one page of a FHIR search."""
    return read_json(io.BytesIO(data))


def _top_level_types(stream: IO[bytes]) -> tuple[Any, Any]:
    """The top-level ``resourceType`` and ``type``, read from as little of the stream as possible.

    Both usually open the document; small reads keep this pre-pass from parsing a whole buffer of
    entries. Should either come after ``entry``, the pass reads on to the end (still without building
    any entry).
    """
    stream.seek(0)
    resource_type = bundle_type = None
    for prefix, event, value in ijson.parse(stream, buf_size=_PRE_PASS_BYTES):
        if event != "string":
            continue
        if prefix == "resourceType":
            resource_type = value
            if resource_type != "Bundle" or bundle_type is not None:
                break
        elif prefix == "type":
            bundle_type = value
            if resource_type is not None:
                break
    stream.seek(0)
    return resource_type, bundle_type


def _read_too_deep(stream: IO[bytes]) -> Iterator[RawEntry]:
    """A document nested past the limit somewhere: its Bundle entries, each too-deep one refused alone.

    Nothing here recurses, nor builds what is too deep: ijson's ``basic_parse`` gives flat events (without the
    dotted prefixes ``ijson.parse`` would build, which grow with the depth), each entry is built from them
    while it stays within the limit, and one that goes deeper is dropped as its events stream past. A single
    resource that is too deep is refused as a whole, as there is nothing else in the file to import.
    """
    limit = max_json_depth()
    try:
        resource_type, bundle_type = _top_level_types_flat(stream)
        if not isinstance(resource_type, str):
            raise MalformedUpload(_("The file is not a FHIR resource, a Bundle or NDJSON."))
        if resource_type != "Bundle":
            raise MalformedUpload(TooDeep(limit).localised())
        _check_bundle_type(bundle_type)
        yield from _entries_flat(stream, limit)
    except ijson.JSONError as exc:
        raise MalformedUpload(_("The file is not valid JSON.")) from exc
    except UnicodeDecodeError as exc:
        raise MalformedUpload(_("The file is not UTF-8 text.")) from exc


def _top_level_types_flat(stream: IO[bytes]) -> tuple[Any, Any]:
    """The top-level ``resourceType`` and ``type`` (None when the document is not an object), from flat events."""
    stream.seek(0)
    depth, key = 0, None
    found: dict[str, Any] = {}
    for event, value in ijson.basic_parse(stream, use_float=False):
        if depth == 0 and event != "start_map":
            break
        if event in _OPEN:
            depth += 1
        elif event in _CLOSE:
            depth -= 1
        elif depth == 1 and event == "map_key":
            key = value
        elif depth == 1 and key in ("resourceType", "type"):
            found[key] = value
            if found.get("resourceType", "Bundle") != "Bundle" or len(found) == 2:
                break
    stream.seek(0)
    return found.get("resourceType"), found.get("type")


def _entries_flat(stream: IO[bytes], limit: int) -> Iterator[RawEntry]:
    """Entries of the top-level Bundle's ``entry`` array, each built from flat events unless it is too deep."""
    depth, key, in_entries, index = 0, None, False, 0
    builder: ObjectBuilder | None = None
    for event, value in ijson.basic_parse(stream, use_float=False):
        if not in_entries:
            if event in _OPEN:
                depth += 1
                in_entries = depth == 2 and key == "entry" and event == "start_array"
            elif event in _CLOSE:
                depth -= 1
            elif depth == 1 and event == "map_key":
                key = value
            continue
        if depth == 2:  # between entries: the next one starts, or the array ends
            if event in _CLOSE:
                depth, in_entries = 1, False
                continue
            index += 1
            if event not in _OPEN:
                yield from bundle_entry(value, position=f"entry {index}")
                continue
            builder = ObjectBuilder()
        if event in _OPEN:
            depth += 1
            if depth > limit:
                builder = None
        if builder is not None:
            builder.event(event, value)
        if event in _CLOSE:
            depth -= 1
            if depth == 2:
                if builder is None:
                    refusal = TooDeep(limit).localised()
                    yield RawEntry(raw=b"", resource=None, position=f"entry {index}", problem=refusal)
                else:
                    yield from bundle_entry(builder.value, position=f"entry {index}")


def _single_resource(data: bytes) -> RawEntry:
    raw = data.strip()
    try:
        value = loads(raw)
    except ValueError as exc:
        raise MalformedUpload(_("The file is not valid JSON.")) from exc
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        raise MalformedUpload(_("The file is not a FHIR resource, a Bundle or NDJSON."))
    return RawEntry(raw=raw, resource=value, position="file")


def entries_of_bundle(bundle: dict[str, Any], *, position: str) -> Iterator[RawEntry]:
    """Entries of a Bundle already parsed into memory (a nested one)."""
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return
    for index, entry in enumerate(entries, start=1):
        yield from bundle_entry(entry, position=f"{position} › {index}" if position else f"entry {index}")


def bundle_entry(entry: Any, *, position: str) -> Iterator[RawEntry]:
    if not isinstance(entry, dict):
        yield RawEntry(raw=b"", resource=None, position=position, problem=_("The entry is not a JSON object."))
        return
    full_url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else ""
    resource = entry.get("resource")
    search = entry.get("search")
    if isinstance(search, dict) and search.get("mode") == "outcome":
        yield RawEntry(raw=b"", resource=None, position=position, problem=_("A search outcome."), skip=True)
    elif resource is None:
        yield RawEntry(raw=b"", resource=None, position=position, problem=_("The entry has no resource."), skip=True)
    elif not isinstance(resource, dict):
        yield RawEntry(raw=b"", resource=None, position=position, problem=_("The resource is not a JSON object."))
    elif resource.get("resourceType") == "Bundle":
        yield from entries_of_bundle(resource, position=position)
    else:
        yield RawEntry(raw=dumps(resource), resource=resource, full_url=str(full_url), position=position)
