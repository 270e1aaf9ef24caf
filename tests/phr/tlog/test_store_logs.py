"""The three logs are written through the real services, in the event's transaction, and integrated into
signed checkpoints that are copied outside the database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client

from consent.models import LedgerEntry, Project
from phr import services
from phr.models import AuditEvent, LogCheckpoint, LogEntry, LogName, LogState, Person, RecordAccess, User
from phr.tlog import merkle
from phr.tlog.integrate import integrate, integrate_all
from phr.tlog.signing import open_checkpoint
from tests.conftest import grant_proxy_to, sign_in
from tests.consent.api.hospital import HOSPITAL_SYSTEM, accept, auth, hospital, patients, post_json
from tests.consent.conftest import make_project, university
from tests.phr.tlog.store_helpers import checkpoint_dir, run_verify
from tests.portal.test_records_fixtures import seed_record

__all__ = ["auth", "checkpoint_dir", "hospital", "patients", "university"]
pytestmark = pytest.mark.usefixtures("checkpoint_dir")


@pytest.fixture
def study(university) -> Project:
    return make_project(university)


def _body(row: AuditEvent | RecordAccess | LedgerEntry) -> dict:
    assert row.log_entry is not None
    return json.loads(bytes(row.log_entry.body))


def test_an_audit_event_from_a_service_call_is_queued_in_the_audit_log(alice: Person) -> None:
    assert alice.user is not None
    services.update_profile(person=alice, actor=alice.user, prefecture="13")

    event = AuditEvent.objects.filter(person=alice).first()
    assert event is not None and event.log_entry is not None
    assert event.log_entry.log == LogName.AUDIT and event.log_entry.index is None
    assert _body(event)["action"] == event.action and _body(event)["person"] == str(alice.pk)


def test_an_audit_event_rolled_back_leaves_no_log_entry(db) -> None:
    queued = LogEntry.objects.count()

    @transaction.atomic
    def failing_write() -> None:
        services.record_audit(actor=None, person=None, action="test.rolled_back")
        raise RuntimeError("the event's transaction fails")

    with pytest.raises(RuntimeError):
        failing_write()

    assert LogEntry.objects.count() == queued
    assert not AuditEvent.objects.filter(action="test.rolled_back").exists()


def test_a_proxy_read_is_queued_in_the_access_log(client: Client, alice: Person, carol: User) -> None:
    seed_record(alice)
    grant_proxy_to(alice, carol)
    sign_in(client, carol.email)

    assert client.get(f"/people/{alice.pk}/records/").status_code == 200

    access = RecordAccess.objects.get(person=alice)
    assert access.log_entry is not None and access.log_entry.log == LogName.ACCESS
    assert _body(access)["id"] == str(access.pk) and _body(access)["route"] == "proxy"


def test_a_release_queues_one_ledger_entry_per_person_in_request_order(client, auth, patients, study) -> None:
    accept(patients["alice"], study)
    accept(patients["bob"], study)
    identifiers = [{"system": HOSPITAL_SYSTEM, "value": v} for v in ("P-0002", "P-0001")]
    response = post_json(
        client,
        "/api/v1/releases",
        {"project": str(study.pk), "identifiers": identifiers},
        {**auth, "Idempotency-Key": "k1"},
    )
    assert response.status_code == 201, response.content

    integrate(LogName.LEDGER)

    entries = list(LedgerEntry.objects.select_related("log_entry").order_by("log_entry__index"))
    assert [e.person_id for e in entries] == [patients["bob"].pk, patients["alice"].pk]
    assert [e.log_entry.index for e in entries] == [0, 1]
    assert _body(entries[0])["release"] == response.json()["id"]
    assert run_verify("verify_ledger")[0]


def test_integration_gives_indexes_in_queue_order_and_signs_a_checkpoint(alice: Person, bob: Person) -> None:
    queued = list(LogEntry.objects.filter(log=LogName.AUDIT).order_by("id").values_list("id", flat=True))

    done = integrate(LogName.AUDIT)

    assert done.added == len(queued) >= 2
    indexes = dict(LogEntry.objects.filter(log=LogName.AUDIT).values_list("id", "index"))
    assert [indexes[i] for i in queued] == list(range(len(queued)))
    checkpoint = LogCheckpoint.objects.get(log=LogName.AUDIT, size=len(queued))
    opened = open_checkpoint(LogName.AUDIT, checkpoint.note)
    leaves = [
        merkle.record_hash(bytes(b))
        for b in LogEntry.objects.filter(log="audit").order_by("index").values_list("body", flat=True)
    ]
    assert opened.size == len(queued) and opened.root_hash == bytes(checkpoint.root_hash)
    assert bytes(LogState.objects.get(log=LogName.AUDIT).root_hash) == opened.root_hash
    assert len(leaves) == len(queued)


def test_running_the_integrator_again_integrates_nothing_twice(alice: Person) -> None:
    first = integrate(LogName.AUDIT)
    again = integrate(LogName.AUDIT)

    assert again.added == 0 and again.size == first.size
    assert LogCheckpoint.objects.filter(log=LogName.AUDIT).count() == 1


def test_each_checkpoint_is_copied_outside_the_database(alice: Person, checkpoint_dir: Path) -> None:
    integrate_all()
    assert alice.user is not None
    services.update_profile(person=alice, actor=alice.user, prefecture="27")
    integrate_all()

    sizes = sorted(int(p.name) for p in (checkpoint_dir / "audit").iterdir() if p.name.isdigit())
    stored = list(LogCheckpoint.objects.filter(log="audit").order_by("size").values_list("size", "note"))
    assert sizes == [size for size, _note in stored]
    assert [(checkpoint_dir / "audit" / str(size)).read_text() for size in sizes] == [note for _s, note in stored]
    assert (checkpoint_dir / "audit" / f"{sizes[-1]}.leaves").stat().st_size == 32 * (sizes[-1] - sizes[-2])


def test_an_empty_log_gets_a_signed_checkpoint_of_size_zero(db, checkpoint_dir: Path) -> None:
    integrate(LogName.LEDGER)

    assert open_checkpoint("ledger", (checkpoint_dir / "ledger" / "0").read_text()).size == 0
    assert run_verify("verify_log", "ledger") == (True, "The ledger log is intact: 0 entries match checkpoint 0.\n")


def test_the_persons_page_still_shows_their_access_log_and_audit_events(
    client: Client, alice: Person, carol: User
) -> None:
    seed_record(alice)
    grant_proxy_to(alice, carol)
    sign_in(client, carol.email)
    client.get(f"/people/{alice.pk}/records/timeline/")
    integrate_all()
    client.logout()
    assert alice.user is not None
    sign_in(client, alice.user.email)

    accesses = client.get("/me/records/access-log/").content.decode()
    dashboard = client.get("/me/").content.decode()

    assert carol.email in accesses and "タイムライン" in accesses
    # The proxy grant is an audit event the person sees on their page.
    assert carol.email in dashboard
