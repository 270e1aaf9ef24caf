"""What a sync stores is what the server sent, byte for byte.

sekmet-fhir re-serialises numbers itself (it answers 3.1 for a stored 3.10), so the end-to-end test compares
with the server's own wire bytes; the page-collector test feeds 3.10 straight in.
"""

from __future__ import annotations

import re

import httpx
import pytest

from phr.crypto.datakeys import decrypt
from phr.fhir.fetch import Collected
from phr.fhir.retry import RetryPolicy
from phr.fhir.sync import SyncOptions, run_sync
from phr.models import FhirResource
from phr.models.records import SyncRunStatus
from phr.records.store import raw_context
from tests.phr.fhir.conftest import load_patient

pytestmark = pytest.mark.django_db

VALUE = re.compile(rb'"value"\s*:\s*([0-9.]+)')


def test_a_decimal_arrives_with_the_digits_the_server_sent(alice, erin, endpoint, peer) -> None:
    connection, loaded = load_patient(peer, endpoint, alice, erin, tag="dec")
    observation = (
        b'{"resourceType":"Observation","id":"dec-k-310","status":"final",'
        b'"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category",'
        b'"code":"laboratory"}]}],'
        b'"code":{"coding":[{"system":"http://loinc.org","code":"2823-3","display":"Potassium"}]},'
        b'"subject":{"reference":"Patient/' + loaded.patient_id.encode() + b'"},'
        b'"effectiveDateTime":"2026-11-20T09:30:00+09:00",'
        b'"valueQuantity":{"value":3.10,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}}'
    )
    headers = {"Content-Type": "application/fhir+json", **peer.server._admin_headers()}
    put = httpx.put(f"{peer.server.direct_url}/Observation/dec-k-310", content=observation, headers=headers, timeout=30)
    assert put.status_code in (200, 201), put.text[:500]
    wire = httpx.get(f"{peer.server.direct_url}/Observation/dec-k-310", headers=headers, timeout=30).content
    sent = VALUE.search(wire)
    assert sent is not None

    run = run_sync(connection.id, options=SyncOptions(policy=RetryPolicy(sleep=lambda seconds: None)))
    assert run is not None and run.status == SyncRunStatus.SUCCEEDED, run and run.error

    resource = FhirResource.objects.get(person=alice, resource_type="Observation", resource_id="dec-k-310")
    raw = decrypt(bytes(resource.raw_encrypted), context=raw_context(resource.pk))
    stored = VALUE.search(raw)
    assert stored is not None
    assert stored.group(1) == sent.group(1)  # byte for byte what the server put on the wire
    assert b'"2026-11-20T09:30:00+09:00"' in raw


def test_the_page_collector_keeps_trailing_zeros_and_offsets() -> None:
    page = (
        b'{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"Observation/o1","resource":'
        b'{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"K"},'
        b'"effectiveDateTime":"2026-11-20T09:30:00.000+09:00","valueQuantity":{"value":3.10}}}]}'
    )
    with Collected() as collected:
        collected.add_page(page, page=1)
        (entry,) = collected.entries()
    assert b'"value":3.10' in entry.raw.replace(b" ", b"")
    assert b'"2026-11-20T09:30:00.000+09:00"' in entry.raw
