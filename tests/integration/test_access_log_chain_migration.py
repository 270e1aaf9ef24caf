"""The break-glass migration chains the record accesses that existed before it, so they verify at once."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from phr.records.access_log import verify_access_log

BEFORE = [("phr", "0004_share_export")]
AFTER = [("phr", "0005_break_glass")]


@pytest.mark.django_db(transaction=True)
def test_existing_record_accesses_are_chained_per_person_in_the_order_they_happened() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    person = old.get_model("phr", "Person").objects.create(
        id=uuid.uuid4(), family_name="古川", given_name="昭", birth_date=date(1950, 1, 1)
    )
    Access = old.get_model("phr", "RecordAccess")
    for minute in (3, 1, 2):
        Access.objects.create(
            id=uuid.uuid4(),
            person=person,
            actor_label="clinic@example.test",
            route="staff",
            page="records.dashboard",
            at=datetime(2026, 1, 1, 9, minute, tzinfo=UTC),
        )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    from phr.models import RecordAccess

    rows = list(RecordAccess.objects.filter(person_id=person.id).order_by("position"))
    assert [r.at.minute for r in rows] == [1, 2, 3]
    assert verify_access_log() == []
