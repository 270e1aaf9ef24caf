"""Export: the person's whole record as a FHIR R4 Bundle (type collection) or as NDJSON, a batch at a time.

Each resource is the stored raw JSON exactly as received, decrypted with the person's key; nothing is
rebuilt, so what leaves is what came in. Resources the hospital has since withdrawn (``deleted_at_source``)
are not part of the record any more and are left out, as the record views leave them out.

NDJSON is one file (``.ndjson``, ``application/fhir+ndjson``): one resource a line, grouped by
resourceType in alphabetical order, then by id. One file rather than FHIR Bulk Data's one file per type
keeps a download a single stream that any tool reads line by line; the lines are the same either way.
A resource received pretty-printed has its line breaks turned into spaces (JSON allows no raw line break
inside a string, so only whitespace between tokens changes and the JSON value is identical).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from phr.models import FhirResource, Person
from phr.models.exports import ExportFormat
from phr.records.reading import Decryptor
from phr.records.services import raw_context

BATCH = 500
_LINE_BREAKS = bytes.maketrans(b"\r\n", b"  ")
CONTENT_TYPES = {ExportFormat.BUNDLE: "application/fhir+json", ExportFormat.NDJSON: "application/fhir+ndjson"}
EXTENSIONS = {ExportFormat.BUNDLE: "json", ExportFormat.NDJSON: "ndjson"}


def inline_max() -> int:
    """Records with more resources than this are exported in the background (MAMORI_EXPORT_INLINE_MAX)."""
    return int(settings.MAMORI_EXPORT_INLINE_MAX)


def _current(person: Person) -> QuerySet[FhirResource]:
    """The person's resources that are part of the record: not those the hospital has since withdrawn."""
    return FhirResource.objects.filter(person=person, deleted_at_source__isnull=True)


def resource_count(person: Person) -> int:
    return _current(person).count()


def is_large(person: Person) -> bool:
    return resource_count(person) > inline_max()


def _rows(person: Person) -> QuerySet[FhirResource, tuple[object, bytes]]:
    return _current(person).order_by("resource_type", "resource_id", "pk").values_list("pk", "raw_encrypted")


def raw_resources(person: Person) -> Iterator[tuple[str, bytes]]:
    """(id, raw JSON) of each stored resource, grouped by type; a resource that no longer opens is skipped."""
    decryptor = Decryptor(person)
    for pk, token in _rows(person).iterator(chunk_size=BATCH):
        raw = decryptor.open(token, raw_context(pk))
        if raw is not None:
            yield str(pk), raw


def bundle_pieces(resources: Iterator[tuple[str, bytes]]) -> Iterator[bytes]:
    """The Bundle's JSON text in pieces: a header, one entry per resource, the closing brackets."""
    header = {"resourceType": "Bundle", "type": "collection", "timestamp": timezone.now().isoformat()}
    yield json.dumps(header, ensure_ascii=False)[:-1].encode() + b', "entry": ['
    first = True
    for pk, raw in resources:
        yield (b"" if first else b",") + b'{"fullUrl":"urn:uuid:' + pk.encode() + b'","resource":' + raw + b"}"
        first = False
    yield b"]}"


def ndjson_lines(resources: Iterator[tuple[str, bytes]]) -> Iterator[bytes]:
    for _pk, raw in resources:
        yield raw.translate(_LINE_BREAKS) + b"\n"


def export_pieces(resources: Iterator[tuple[str, bytes]], fmt: str) -> Iterator[bytes]:
    return ndjson_lines(resources) if fmt == ExportFormat.NDJSON else bundle_pieces(resources)


def export_stream(person: Person, fmt: str) -> Iterator[bytes]:
    """The whole record in ``fmt``, read and decrypted a batch at a time as the response is sent."""
    return export_pieces(raw_resources(person), fmt)


def file_name(fmt: str) -> str:
    return f"mamori-records-{timezone.localdate():%Y%m%d}.{EXTENSIONS[ExportFormat(fmt)]}"
