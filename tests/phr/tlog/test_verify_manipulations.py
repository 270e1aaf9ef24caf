"""``verify_log`` names the first bad entry, with its index and what was done to it, for each way someone with
the database's owner role could rewrite history (on PostgreSQL after dropping the guard triggers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import connection

from phr import services
from phr.models import AuditEvent, LogEntry, LogName
from phr.tlog.canonical import encode
from phr.tlog.integrate import integrate
from phr.tlog.verify import Kind, verify_log
from tests.phr.tlog.store_helpers import (
    checkpoint_dir,
    entry,
    integrate_each,
    rewrite_stored_hashes,
    run_verify,
    tampering,
)

__all__ = ["checkpoint_dir"]
pytestmark = pytest.mark.usefixtures("checkpoint_dir")

AUDIT = LogName.AUDIT


@pytest.fixture
def five_events(db) -> list[AuditEvent]:
    """Five audit events, each integrated under its own checkpoint."""
    events = [services.record_audit(actor=None, person=None, action=f"test.event_{i}") for i in range(5)]
    integrate_each(AUDIT)
    return events


def _first() -> tuple[int | None, Kind, str]:
    report = verify_log(AUDIT)
    assert not report.intact
    first = report.problems[0]
    return first.index, first.kind, first.detail


def _sql(statement: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _event_at(index: int) -> AuditEvent:
    return AuditEvent.objects.get(log_entry=entry(AUDIT, index))


def _rewrite_event(index: int, action: str) -> None:
    """Change an event and its entry's bytes consistently, as someone covering their tracks would."""
    event = _event_at(index)
    _sql("UPDATE phr_auditevent SET action = %s WHERE id = %s", [action, event.pk])
    event.action = action
    _sql("UPDATE phr_logentry SET body = %s WHERE id = %s", [encode(event.log_body()), event.log_entry_id])


def _delete_entry(index: int) -> None:
    event = _event_at(index)
    _sql("DELETE FROM phr_auditevent WHERE id = %s", [event.pk])
    _sql("DELETE FROM phr_logentry WHERE id = %s", [event.log_entry_id])


def test_an_untouched_log_verifies(five_events: list[AuditEvent]) -> None:
    assert run_verify("verify_log", "audit") == (True, "The audit log is intact: 5 entries match checkpoint 5.\n")
    assert run_verify("verify_audit_log")[0]


def test_an_edited_event_is_named(five_events: list[AuditEvent]) -> None:
    with tampering():
        _sql("UPDATE phr_auditevent SET action = 'test.innocent' WHERE id = %s", [_event_at(2).pk])

        assert _first()[:2] == (2, Kind.EDITED)
        ok, report = run_verify("verify_log", "audit")
    assert not ok and "First bad entry: entry 2: edited" in report


def test_an_edited_entry_body_is_named(five_events: list[AuditEvent]) -> None:
    with tampering():
        body = json.loads(bytes(entry(AUDIT, 3).body))
        _sql("UPDATE phr_logentry SET body = %s WHERE id = %s", [encode({**body, "action": "x"}), entry(AUDIT, 3).pk])

        assert _first()[:2] == (3, Kind.EDITED)


def test_an_entry_inserted_in_the_middle_is_named(five_events: list[AuditEvent]) -> None:
    with tampering():
        for index in range(4, 1, -1):
            LogEntry.objects.filter(log=AUDIT, index=index).update(index=index + 1)
        forged = AuditEvent(action="test.forged", actor_ref="", person_ref="")
        forged.log_entry = LogEntry.objects.create(log=AUDIT, body=encode(forged.log_body()), index=2)
        forged.save()
        rewrite_stored_hashes(AUDIT)

        assert _first()[:2] == (2, Kind.INSERTED)


def test_an_entry_deleted_in_the_middle_is_named(five_events: list[AuditEvent]) -> None:
    with tampering():
        _delete_entry(1)

        assert _first() == (1, Kind.DELETED, "entries 1 to 1 are missing")


def test_an_entry_deleted_in_the_middle_and_the_rest_renumbered_is_named(five_events: list[AuditEvent]) -> None:
    with tampering():
        _delete_entry(1)
        for index in range(2, 5):
            LogEntry.objects.filter(log=AUDIT, index=index).update(index=index - 1)
        rewrite_stored_hashes(AUDIT)

        assert _first()[:2] == (1, Kind.DELETED)


def test_entries_deleted_at_the_tail_are_named(five_events: list[AuditEvent]) -> None:
    with tampering():
        _delete_entry(4)
        _delete_entry(3)
        _sql("DELETE FROM phr_loghash WHERE log = 'audit'", [])
        _sql("DELETE FROM phr_logcheckpoint WHERE log = 'audit' AND size > 3", [])
        rewrite_stored_hashes(AUDIT)

        index, kind, detail = _first()
    assert (index, kind) == (3, Kind.TRUNCATED) and "signed 5 entries" in detail


def test_an_entry_rewritten_and_re_hashed_is_named(five_events: list[AuditEvent]) -> None:
    with tampering():
        _rewrite_event(2, "test.innocent")
        rewrite_stored_hashes(AUDIT)

        index, kind, detail = _first()
    assert (index, kind) == (2, Kind.REHASHED) and "RFC 6962" in detail


def test_an_entry_re_hashed_with_the_old_chains_algorithm_is_named(five_events: list[AuditEvent]) -> None:
    with tampering():
        _rewrite_event(2, "test.innocent")
        rewrite_stored_hashes(AUDIT, old_algorithm_at=2)

        index, kind, detail = _first()
    assert (index, kind) == (2, Kind.REHASHED) and "old chains' plain SHA-256" in detail


def test_without_the_leaf_files_a_re_hash_is_narrowed_to_the_entries_between_two_checkpoints(
    db, checkpoint_dir: Path
) -> None:
    for i in range(6):
        services.record_audit(actor=None, person=None, action=f"test.event_{i}")
        if i % 2:
            integrate(AUDIT)
    for leaves in (checkpoint_dir / "audit").glob("*.leaves"):
        leaves.unlink()
    with tampering():
        _rewrite_event(2, "test.innocent")
        rewrite_stored_hashes(AUDIT)

        index, kind, detail = _first()
    assert (index, kind) == (2, Kind.REHASHED) and "from 2 to 3" in detail


def test_a_forged_checkpoint_file_is_reported(five_events: list[AuditEvent], checkpoint_dir: Path) -> None:
    newest = checkpoint_dir / "audit" / "5"
    newest.write_text(newest.read_text().replace("\n5\n", "\n6\n"))

    report = verify_log(AUDIT)

    assert report.problems[0].kind == Kind.CHECKPOINT and "checkpoint 5 does not verify" in report.problems[0].detail


def test_an_event_without_a_log_entry_is_named_as_inserted(five_events: list[AuditEvent]) -> None:
    with tampering():
        AuditEvent(action="test.forged").save()

        report = verify_log(AUDIT)
    assert [p.kind for p in report.problems] == [Kind.INSERTED] and "has no log entry" in report.problems[0].detail
