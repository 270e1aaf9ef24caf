"""Verification of the releases ledger and the record-access log names a changed or deleted row; on PostgreSQL
the triggers refuse UPDATE and DELETE on every log table and logged row before anyone gets that far."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from consent.models import LedgerEntry, Project, Release
from phr.models import AuditEvent, LogCheckpoint, LogEntry, LogHash, LogName, LogState, Person, RecordAccess, User
from phr.tlog.integrate import integrate_all
from phr.tlog.verify import Kind, verify_log
from tests.conftest import grant_proxy_to, requires_postgres, sign_in
from tests.consent.api.hospital import HOSPITAL_SYSTEM, accept, auth, hospital, patients, post_json
from tests.consent.conftest import make_project, university
from tests.phr.tlog.store_helpers import checkpoint_dir, entry, run_verify, tampering
from tests.portal.test_records_fixtures import seed_record

__all__ = ["auth", "checkpoint_dir", "hospital", "patients", "university"]
pytestmark = pytest.mark.usefixtures("checkpoint_dir")


@pytest.fixture
def study(university) -> Project:
    return make_project(university)


@pytest.fixture
def released(client: Client, auth, patients, study) -> list[LedgerEntry]:
    """Two releases through the API (three ledger entries), integrated and published."""
    accept(patients["alice"], study)
    accept(patients["bob"], study)
    for key, values in (("a", ("P-0001", "P-0002")), ("b", ("P-0001",))):
        identifiers = [{"system": HOSPITAL_SYSTEM, "value": v} for v in values]
        body = {"project": str(study.pk), "identifiers": identifiers}
        assert post_json(client, "/api/v1/releases", body, {**auth, "Idempotency-Key": key}).status_code == 201
    integrate_all()
    return list(LedgerEntry.objects.order_by("log_entry__index"))


@pytest.fixture
def accessed(client: Client, alice: Person, carol: User) -> list[RecordAccess]:
    """Three reads of alice's record by her proxy, integrated and published."""
    seed_record(alice)
    grant_proxy_to(alice, carol)
    sign_in(client, carol.email)
    for page in ("", "timeline/", "labs/"):
        assert client.get(f"/people/{alice.pk}/records/{page}").status_code == 200
    integrate_all()
    return list(RecordAccess.objects.order_by("log_entry__index"))


def test_an_intact_ledger_and_access_log_verify(released: list[LedgerEntry], accessed: list[RecordAccess]) -> None:
    assert run_verify("verify_log", "--all")[0]
    assert run_verify("verify_ledger")[0] and run_verify("verify_access_log")[0]


def test_a_changed_ledger_entry_is_named(released: list[LedgerEntry]) -> None:
    with tampering(), connection.cursor() as cursor:
        cursor.execute("UPDATE consent_ledgerentry SET consent_version = 99 WHERE id = %s", [released[1].pk])
        ok, report = run_verify("verify_ledger")

    assert not ok
    assert f"First bad entry: entry 1: edited: ledger entry {released[1].pk} no longer matches its log entry" in report


def test_a_deleted_last_release_is_named_as_deleted_at_the_tail(released: list[LedgerEntry]) -> None:
    last = released[-1]
    with tampering():
        LedgerEntry.objects.filter(pk=last.pk)._raw_delete(connection.alias)
        LogEntry.objects.filter(log="ledger", index=2)._raw_delete(connection.alias)
        Release.objects.filter(pk=last.release_id)._raw_delete(connection.alias)
        report = verify_log(LogName.LEDGER)

    assert (report.problems[0].index, report.problems[0].kind) == (2, Kind.TRUNCATED)


def test_a_deleted_record_access_is_named(accessed: list[RecordAccess]) -> None:
    with tampering():
        RecordAccess.objects.filter(pk=accessed[1].pk)._raw_delete(connection.alias)
        report = verify_log(LogName.ACCESS)

    assert (report.problems[0].index, report.problems[0].kind) == (1, Kind.DELETED)
    assert "record access this entry records is missing" in report.problems[0].detail


@requires_postgres()
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE phr_logentry SET body = '\\x00' WHERE id = {entry}",
        "UPDATE phr_logentry SET index = 99 WHERE id = {entry}",
        "DELETE FROM phr_logentry WHERE id = {entry}",
        "UPDATE phr_loghash SET hash = '\\x00' WHERE log = 'ledger'",
        "DELETE FROM phr_loghash WHERE log = 'ledger'",
        "UPDATE phr_logcheckpoint SET note = '' WHERE log = 'ledger'",
        "DELETE FROM phr_logcheckpoint WHERE log = 'ledger'",
        "UPDATE phr_logstate SET size = 0 WHERE log = 'ledger'",
        "DELETE FROM phr_logstate WHERE log = 'ledger'",
        "UPDATE consent_ledgerentry SET consent_version = 99 WHERE id = {ledger}",
        "UPDATE consent_ledgerentry SET log_entry_id = NULL WHERE id = {ledger}",
        "DELETE FROM consent_ledgerentry WHERE id = {ledger}",
        "UPDATE phr_recordaccess SET page = 'x' WHERE id = '{access}'",
        "DELETE FROM phr_recordaccess WHERE id = '{access}'",
        "UPDATE phr_auditevent SET action = 'x' WHERE id = {audit}",
        "DELETE FROM phr_auditevent WHERE id = {audit}",
    ],
)
def test_postgres_refuses_update_and_delete_outright(
    statement: str, released: list[LedgerEntry], accessed: list[RecordAccess]
) -> None:
    audit = AuditEvent.objects.filter(log_entry__index__isnull=False).first()
    assert audit is not None
    sql = statement.format(
        entry=entry(LogName.LEDGER, 0).pk, ledger=released[0].pk, access=accessed[0].pk, audit=audit.pk
    )
    with (
        pytest.raises(DatabaseError, match=r"append-only|only moves forward"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)


@requires_postgres()
def test_postgres_still_lets_the_integrator_index_a_queued_entry_once(db) -> None:
    queued = LogEntry.objects.create(log=LogName.AUDIT, body=b"{}")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE phr_logentry SET index = 0 WHERE id = %s", [queued.pk])
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute("UPDATE phr_logentry SET index = 1 WHERE id = %s", [queued.pk])


def test_the_orm_refuses_to_change_or_delete_a_logged_row(accessed: list[RecordAccess]) -> None:
    access = accessed[0]
    with pytest.raises(ValueError, match="append-only"):
        access.save()
    with pytest.raises(ValueError, match="append-only"):
        access.delete()
    assert LogHash.objects.filter(log="access").exists() and LogCheckpoint.objects.filter(log="access").exists()
    assert LogState.objects.get(log="access").size == 3
