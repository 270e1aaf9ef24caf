"""The audit log is sealed into a hash chain; ``verify_audit_log`` finds a changed, inserted or deleted row."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction

from phr import services
from phr.audit_chain import seal_audit_events, verify_audit_log
from phr.models import AuditEvent, ChainHead, Person, User
from tests.conftest import requires_postgres
from tests.phr.chain_helpers import run_verify, tampering


def _verify() -> tuple[bool, str]:
    return run_verify("verify_audit_log")


def test_sealing_chains_every_event_once_in_order(alice: Person, bob: Person) -> None:
    sealed = seal_audit_events()

    events = list(AuditEvent.objects.order_by("position"))
    assert sealed == len(events) >= 2
    assert [e.position for e in events] == list(range(1, len(events) + 1))
    assert events[1].prev_hash == events[0].row_hash
    assert events[0].person_ref == str(alice.pk)
    assert ChainHead.objects.get(chain="audit").head_hash == events[-1].row_hash
    assert seal_audit_events() == 0
    assert _verify() == (True, "The audit log is intact.\n")


def test_events_written_later_join_the_chain_on_the_next_seal(alice: Person) -> None:
    seal_audit_events()
    assert alice.user is not None
    services.update_profile(person=alice, actor=alice.user, prefecture="13")

    ok, _report = _verify()

    assert ok and AuditEvent.objects.filter(position__isnull=True).count() == 0


def test_a_changed_event_is_detected(alice: Person) -> None:
    seal_audit_events()
    event = AuditEvent.objects.get(action="person.created")
    with tampering():
        AuditEvent.objects.filter(pk=event.pk).update(action="person.viewed")

    ok, report = _verify()
    assert not ok and f"audit event {event.pk}" in report and "was changed" in report


def test_a_deleted_event_is_detected(alice: Person, bob: Person) -> None:
    seal_audit_events()
    first = AuditEvent.objects.order_by("position").first()
    assert first is not None
    with tampering():
        AuditEvent.objects.filter(pk=first.pk).delete()

    ok, report = _verify()
    assert not ok and "deleted" in report


def test_an_inserted_sealed_looking_event_is_detected(alice: Person) -> None:
    seal_audit_events()
    with tampering():
        forged = AuditEvent.objects.create(action="proxy.revoked", person=alice)
        AuditEvent.objects.filter(pk=forged.pk).update(position=99, prev_hash="0" * 64, row_hash="f" * 64)

    ok, report = _verify()
    assert not ok and f"audit event {forged.pk}" in report


def test_the_orm_refuses_to_change_or_delete_an_event(alice: Person) -> None:
    event = AuditEvent.objects.get(action="person.created")
    event.action = "changed"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()


@requires_postgres()
def test_the_database_refuses_to_change_or_delete_an_event_but_lets_a_deleted_user_go(
    alice: Person, carol: User
) -> None:
    services.record_audit(actor=carol, person=alice, action="proxy.viewed")
    seal_audit_events()
    event = AuditEvent.objects.get(action="proxy.viewed")
    for attempt in (
        lambda: AuditEvent.objects.filter(pk=event.pk).update(action="nothing"),
        lambda: AuditEvent.objects.filter(pk=event.pk).update(row_hash="0" * 64),
        lambda: AuditEvent.objects.filter(pk=event.pk).delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()

    carol.delete()
    assert AuditEvent.objects.get(pk=event.pk).actor is None
    assert verify_audit_log() == []
