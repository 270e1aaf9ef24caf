"""Ingest queries the database per batch (bulk statements), never per resource.

SQLite caps parameters per statement, so Django splits a bulk insert of a batch into a few statements
there; the bound below (one query per ten resources at most) holds on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from phr.records.services import BATCH_SIZE
from tests.phr.records.conftest import PATIENT, bundle, ingest_bytes, observation

COUNT = 3 * BATCH_SIZE


def _queries(person, data: bytes) -> int:
    with CaptureQueriesContext(connection) as captured:
        ingest_bytes(person, data)
    return len(captured)


def test_creating_resources_takes_at_most_one_query_per_ten(alice) -> None:
    queries = _queries(alice, bundle(PATIENT, *(observation(f"o{i}") for i in range(COUNT))))

    assert queries * 10 <= COUNT


def test_updating_resources_takes_at_most_one_query_per_ten(alice) -> None:
    ingest_bytes(alice, bundle(PATIENT, *(observation(f"o{i}", value="1.0") for i in range(COUNT))))

    queries = _queries(alice, bundle(PATIENT, *(observation(f"o{i}", value="2.0") for i in range(COUNT))))

    assert queries * 10 <= COUNT


def test_finding_nothing_changed_takes_one_query_per_batch(alice) -> None:
    data = bundle(PATIENT, *(observation(f"o{i}") for i in range(COUNT)))
    ingest_bytes(alice, data)

    queries = _queries(alice, data)

    batches = -(-(COUNT + 1) // BATCH_SIZE)
    assert queries <= batches + 3  # the lookups, the data key, the savepoint
