"""Export: the person's whole record as one FHIR R4 Bundle (type collection), streamed a batch at a time.

Each entry's resource is the stored raw JSON exactly as received, decrypted with the person's key; nothing
is rebuilt, so what leaves is what came in.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.utils import timezone

from phr.models import FhirResource, Person
from phr.records.reading import Decryptor
from phr.records.services import raw_context

BATCH = 500


def export_bundle(person: Person) -> Iterator[bytes]:
    """The Bundle's JSON text in pieces: a header, one entry per stored resource, the closing brackets."""
    decryptor = Decryptor(person)
    header = {"resourceType": "Bundle", "type": "collection", "timestamp": timezone.now().isoformat()}
    yield json.dumps(header, ensure_ascii=False)[:-1].encode() + b', "entry": ['
    rows = (
        FhirResource.objects.filter(person=person)
        .order_by("resource_type", "resource_id", "pk")
        .values_list("pk", "raw_encrypted")
    )
    first = True
    for pk, token in rows.iterator(chunk_size=BATCH):
        raw = decryptor.open(token, raw_context(pk))
        if raw is None:
            continue
        yield (b"" if first else b",") + b'{"fullUrl":"urn:uuid:' + str(pk).encode() + b'","resource":' + raw + b"}"
        first = False
    yield b"]}"
