"""The access log is append-only and hash-chained per person; ``verify_access_log`` finds any tampering."""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connection, transaction

from phr.hashchain import GENESIS_HASH
from phr.models import ChainHead, Person, RecordAccess, User
from phr.models.access_log import AccessRoute
from phr.models.hashchain import AppendOnlyError
from phr.records.access_log import record_access, verify_access_log
from tests.conftest import make_citizen, make_user, requires_postgres
from tests.phr.chain_helpers import run_verify, tampering


def _reads(person: Person, actor: User, count: int) -> list[RecordAccess]:
    return [
        record_access(person=person, actor=actor, route=AccessRoute.STAFF, page=f"records.page{n}")
        for n in range(count)
    ]


def _verify() -> tuple[bool, str]:
    return run_verify("verify_access_log")


def test_each_persons_reads_form_a_chain_that_verifies(alice: Person, bob: Person, carol: User) -> None:
    alice_reads = _reads(alice, carol, 3)
    bob_reads = _reads(bob, carol, 2)

    assert [r.position for r in alice_reads] == [1, 2, 3] and [r.position for r in bob_reads] == [1, 2]
    assert alice_reads[0].prev_hash == GENESIS_HASH and alice_reads[1].prev_hash == alice_reads[0].row_hash
    assert ChainHead.objects.get(chain=f"record_access:{alice.pk}").head_hash == alice_reads[-1].row_hash
    assert _verify() == (True, "The access log is intact.\n")


def test_a_changed_row_is_detected(alice: Person, carol: User) -> None:
    reads = _reads(alice, carol, 3)
    with tampering():
        RecordAccess.objects.filter(pk=reads[1].pk).update(actor_label="someone-else@example.test")

    ok, report = _verify()
    assert not ok and str(reads[1].pk) in report and "was changed" in report


def test_a_deleted_row_is_detected(alice: Person, carol: User) -> None:
    reads = _reads(alice, carol, 3)
    with tampering():
        RecordAccess.objects.filter(pk=reads[1].pk).delete()

    ok, report = _verify()
    assert not ok and str(reads[2].pk) in report and "deleted" in report


def test_a_deleted_last_row_is_detected(alice: Person, carol: User) -> None:
    reads = _reads(alice, carol, 3)
    with tampering():
        RecordAccess.objects.filter(pk=reads[2].pk).delete()

    ok, report = _verify()
    assert not ok and "its head records 3" in report


def test_an_inserted_row_is_detected_even_when_its_hash_is_well_formed(alice: Person, carol: User) -> None:
    reads = _reads(alice, carol, 2)
    forged = RecordAccess(
        person=alice, actor_label="forger@example.test", route=AccessRoute.STAFF, page="records.dashboard"
    )
    forged.position, forged.prev_hash = 3, reads[-1].row_hash
    from phr.hashchain import row_hash_of

    forged.row_hash = row_hash_of(forged)
    with tampering():
        RecordAccess.objects.bulk_create([forged])

    ok, report = _verify()
    assert not ok and "ends at row 3, its head records 2" in report


def test_every_persons_log_lost_entirely_is_detected(alice: Person, carol: User) -> None:
    _reads(alice, carol, 2)
    with tampering():
        RecordAccess.objects.filter(person=alice).delete()

    assert _verify()[0] is False


def test_rows_refuse_to_be_changed_or_deleted_through_the_orm(alice: Person, carol: User) -> None:
    read = _reads(alice, carol, 1)[0]
    read.page = "records.other"
    with pytest.raises(AppendOnlyError):
        read.save()
    with pytest.raises(AppendOnlyError):
        read.delete()
    with pytest.raises(AppendOnlyError):
        RecordAccess.objects.create(person=alice, actor_label="x", route=AccessRoute.STAFF, page="records.dashboard")


@requires_postgres()
def test_the_database_refuses_to_change_or_delete_a_row(alice: Person, carol: User) -> None:
    read = _reads(alice, carol, 1)[0]
    for attempt in (
        lambda: RecordAccess.objects.filter(pk=read.pk).update(reason="changed"),
        lambda: RecordAccess.objects.filter(pk=read.pk).delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    # Deleting the reader's account only clears the link to it; the chain still verifies.
    carol.delete()
    assert RecordAccess.objects.get(pk=read.pk).actor is None
    assert verify_access_log() == []


@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_concurrent_reads_of_one_record_chain_without_a_fork() -> None:
    person = make_citizen("ivy@example.test", "山田", "愛")
    reader = make_user("reader@example.test")
    errors: list[BaseException] = []

    def read_many() -> None:
        try:
            for _ in range(10):
                record_access(person=person, actor=reader, route=AccessRoute.STAFF, page="records.dashboard")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=read_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert RecordAccess.objects.filter(person=person).count() == 40
    assert verify_access_log() == []
