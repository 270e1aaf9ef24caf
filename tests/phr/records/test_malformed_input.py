"""Input that cannot be read as a whole is refused with a clear error, and nothing stored before is lost."""

from __future__ import annotations

import pytest
from django.utils import translation

from phr.models import FhirResource
from phr.records.reader import MalformedUpload
from tests.phr.records.conftest import PATIENT, bundle, ingest_bytes, observation, raw_of


@pytest.fixture
def stored(alice) -> FhirResource:
    ingest_bytes(alice, bundle(PATIENT, observation("kept", value="7.20")))
    return FhirResource.objects.get(person=alice, resource_id="kept")


@pytest.mark.parametrize(
    "data",
    [
        b"{not json",
        b'{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Patient"',
        b"",
        b"\xff\xfe garbage",
        b"[1, 2, 3]",
        b'{"resourceType": "Bundle", "type": "history", "entry": []}',
    ],
    ids=["broken", "truncated", "empty", "not-utf8", "not-an-object", "history-bundle"],
)
def test_malformed_json_is_refused_and_nothing_stored_is_lost(alice, stored: FhirResource, data: bytes) -> None:
    before = raw_of(stored)

    with pytest.raises(MalformedUpload):
        ingest_bytes(alice, data)

    assert set(FhirResource.objects.filter(person=alice).values_list("resource_id", flat=True)) == {"kept", "p1"}
    assert raw_of(FhirResource.objects.get(pk=stored.pk)) == before


def test_a_bundle_broken_after_good_entries_stores_none_of_them(alice, stored: FhirResource) -> None:
    good = bundle(PATIENT, observation("new-1"), observation("kept", value="9.99"))
    truncated = good[: good.rindex(b"}") - 40]

    with pytest.raises(MalformedUpload):
        ingest_bytes(alice, truncated)

    assert set(FhirResource.objects.filter(person=alice).values_list("resource_id", flat=True)) == {"kept", "p1"}
    assert b"7.20" in raw_of(FhirResource.objects.get(pk=stored.pk))


def test_an_ndjson_line_that_is_not_json_is_rejected_alone(alice) -> None:
    lines = [
        b'{"resourceType":"Patient","id":"p1"}',
        b"{oops",
        b"[]",
        b'{"resourceType":"Patient","id":"p1","active":true}',
    ]

    with translation.override("en"):
        report = ingest_bytes(alice, b"\n".join(lines) + b"\n")

    assert report.rejected == 2
    assert [entry["position"] for entry in report.rejected_entries] == ["line 2", "line 3"]
    assert report.created == 1 and report.updated == 1
