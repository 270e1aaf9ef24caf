"""Payloads, codes and displays are encrypted with the person's key, bound to their row and column."""

from __future__ import annotations

import pytest
from django.db import connection

from phr.crypto.datakeys import decrypt
from phr.crypto.errors import DecryptionError
from phr.models import FhirResource, ResourceIndex
from phr.records.digests import code_digest
from phr.records.services import code_context, display_context, raw_context
from tests.phr.records.conftest import PATIENT, bundle, ingest_bytes, observation


def test_no_clear_health_data_is_in_the_tables(alice) -> None:
    ingest_bytes(alice, bundle(PATIENT, observation("o1", value="123.456")))

    with connection.cursor() as cursor:
        for table in (FhirResource._meta.db_table, ResourceIndex._meta.db_table):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - table names from model meta
            dump = repr(cursor.fetchall())
            assert "123.456" not in dump
            assert "Glucose" not in dump
            assert "2345-7" not in dump


def test_codes_and_displays_decrypt_and_the_code_digest_groups_them(alice) -> None:
    ingest_bytes(alice, bundle(PATIENT, observation("o1")))

    index = ResourceIndex.objects.get(resource__resource_id="o1")
    assert index.code_encrypted is not None and index.display_encrypted is not None
    assert index.code_system == "http://loinc.org"
    assert decrypt(bytes(index.code_encrypted), context=code_context(index.resource_id)) == b"2345-7"
    assert decrypt(bytes(index.display_encrypted), context=display_context(index.resource_id)) == b"Glucose"
    assert index.code_digest == code_digest("http://loinc.org", "2345-7")


def test_a_payload_copied_to_another_row_does_not_open(alice) -> None:
    ingest_bytes(alice, bundle(PATIENT, observation("o1"), observation("o2")))
    one, two = FhirResource.objects.filter(resource_type="Observation").order_by("resource_id")

    with pytest.raises(DecryptionError):
        decrypt(bytes(one.raw_encrypted), context=raw_context(two.id))
