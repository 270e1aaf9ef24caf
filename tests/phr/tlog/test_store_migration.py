"""The rows of the old hash chains are moved into the logs with their history: every audit event, record
access and ledger entry written before the logs is queued in its original order, and verifies once the
integrator has signed the first checkpoints."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from phr.models import LogName
from phr.tlog.integrate import integrate_all
from phr.tlog.verify import verify_log

BEFORE = [
    ("phr", "0007_endpoint_credentials_sealed_not_paths"),
    ("consent", "0011_linked_snapshot_and_fhir_consent_reads"),
]


def _at(minute: int) -> datetime:
    return datetime(2026, 1, 1, 9, minute, tzinfo=UTC)


def _old_history(apps) -> dict[str, list]:
    person = apps.get_model("phr", "Person").objects.create(
        id=uuid.uuid4(), family_name="古川", given_name="昭", birth_date=date(1950, 1, 1)
    )
    Organisation = apps.get_model("phr", "Organisation")
    hospital = Organisation.objects.create(id=uuid.uuid4(), name="古い病院", kind="hospital")
    university = Organisation.objects.create(id=uuid.uuid4(), name="古い大学", kind="academic")
    Audit = apps.get_model("phr", "AuditEvent")
    events = [Audit.objects.create(person=person, action=f"old.event_{i}", detail={"n": i}) for i in range(3)]
    # The first two were sealed by the old chain (it copied the person's id); the third was not yet.
    for position, event in enumerate(events[:2], start=1):
        Audit.objects.filter(pk=event.pk).update(
            position=position, prev_hash="0" * 64, row_hash=f"{position:064d}", person_ref=str(person.pk)
        )
    Access = apps.get_model("phr", "RecordAccess")
    for position, minute in enumerate((3, 1, 2), start=1):
        Access.objects.create(
            id=uuid.uuid4(),
            person=person,
            actor_label="clinic@example.test",
            route="staff",
            page=f"records.page_{minute}",
            at=_at(minute),
            position=position,
            prev_hash="0" * 64,
            row_hash=f"{minute:064d}",
        )
    project = apps.get_model("consent", "Project").objects.create(
        id=uuid.uuid4(),
        organisation=university,
        title_ja="古い研究",
        title_en="old study",
        summary_ja="古い研究",
        summary_en="old study",
        purpose_class="academic_research",
        duo_purpose={"type": "HMB"},
        data_categories=["diagnoses"],
        regions=["JP"],
        period_start=date(2026, 1, 1),
        period_end=date(2028, 12, 31),
        status="approved",
    )
    release = apps.get_model("consent", "Release").objects.create(
        id=uuid.uuid4(),
        organisation=hospital,
        project=project,
        idempotency_key="old",
        request_hash="0" * 64,
        created_at=_at(5),
        accepted=2,
        head_hash="2" * 64,
    )
    Ledger = apps.get_model("consent", "LedgerEntry")
    for n in (1, 2):
        Ledger.objects.create(
            release=release,
            person_id=uuid.uuid4(),
            project_id=project.id,
            organisation_id=hospital.id,
            recorded_at=_at(5),
            consent_version=n,
            prev_hash=str(n - 1) * 64,
            hash=str(n) * 64,
        )
    return {"person": [person.pk]}


@pytest.mark.django_db(transaction=True)
def test_the_old_chains_rows_are_queued_in_their_original_order_and_verify_once_integrated(
    settings, tmp_path: Path
) -> None:
    settings.MAMORI_LOG_CHECKPOINT_DIR = tmp_path / "checkpoints"
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    _old_history(executor.loader.project_state(BEFORE).apps)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    integrate_all()

    from consent.models import LedgerEntry
    from phr.models import AuditEvent, RecordAccess

    events = list(AuditEvent.objects.filter(action__startswith="old.").order_by("log_entry__index"))
    assert [e.action for e in events] == ["old.event_0", "old.event_1", "old.event_2"]
    assert events[2].person_ref == str(events[2].person_id)
    accesses = list(RecordAccess.objects.order_by("log_entry__index"))
    assert [a.page for a in accesses] == ["records.page_1", "records.page_2", "records.page_3"]
    assert [e.consent_version for e in LedgerEntry.objects.order_by("log_entry__index")] == [1, 2]
    for log in LogName:
        assert verify_log(log).intact, verify_log(log).problems
