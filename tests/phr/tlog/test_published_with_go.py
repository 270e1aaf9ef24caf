"""What the site publishes at /logs/<name>/… — checkpoints, verifier keys, inclusion and consistency proofs
over real audit events, record reads and releases — verifies with Go's golang.org/x/mod/sumdb/note and
sumdb/tlog, as an outsider would check it; a history rewritten in the database does not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from consent.models import Project
from phr import services
from phr.models import LogEntry, LogName, Person, User
from phr.tlog import proof
from phr.tlog.canonical import encode
from phr.tlog.integrate import integrate_all
from phr.tlog.keys import new_log_key_setting
from tests.conftest import grant_proxy_to, sign_in
from tests.consent.api.hospital import HOSPITAL_SYSTEM, accept, auth, hospital, patients, post_json
from tests.consent.conftest import make_project, university
from tests.phr.tlog.go_tools import GoVerifier
from tests.phr.tlog.store_helpers import checkpoint_dir, rewrite_stored_hashes, tampering
from tests.portal.test_records_fixtures import seed_record

__all__ = ["auth", "checkpoint_dir", "hospital", "patients", "university"]
pytestmark = pytest.mark.usefixtures("checkpoint_dir")


def _origin(log: str) -> str:
    return f"{settings.MAMORI_LOG_ORIGIN_PREFIX}{log}"


def _text(client: Client, url: str, params: dict[str, int] | None = None) -> str:
    response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


class Published:
    """One log as an outsider sees it through the site."""

    def __init__(self, client: Client, go: GoVerifier, log: str) -> None:
        self.client, self.go, self.log = client, go, log

    @property
    def vkeys(self) -> list[str]:
        return _text(self.client, f"/logs/{self.log}/verifier").splitlines()

    def checkpoint(self) -> str:
        return _text(self.client, f"/logs/{self.log}/checkpoint")

    def inclusion(self, index: int) -> str:
        return _text(self.client, f"/logs/{self.log}/proof", {"index": index})

    def consistency(self, old: int) -> str:
        return _text(self.client, f"/logs/{self.log}/consistency", {"old": old})

    def verify_inclusion(self, index: int, entry: bytes | None = None):
        if entry is None:
            entry = bytes(LogEntry.objects.get(log=self.log, index=index).body)
        return self.go.inclusion(self.inclusion(index), entry, vkeys=self.vkeys, origin=_origin(self.log))

    def verify_consistency(self, old_checkpoint: str, old_size: int):
        text = self.consistency(old_size)
        # Without the newer checkpoint in the proof (a "new N" line), Go is given the published one.
        new = None if proof.parse_consistency_proof(text).checkpoint else self.checkpoint()
        return self.go.consistency(text, old_checkpoint, new=new, vkeys=self.vkeys, origin=_origin(self.log))


def _size(log: str) -> int:
    return LogEntry.objects.filter(log=log, index__isnull=False).count()


@pytest.fixture
def study(university) -> Project:
    return make_project(university)


def _release(client: Client, auth: dict[str, str], study: Project, key: str, values: tuple[str, ...]) -> None:
    identifiers = [{"system": HOSPITAL_SYSTEM, "value": value} for value in values]
    body = {"project": str(study.pk), "identifiers": identifiers}
    assert post_json(client, "/api/v1/releases", body, {**auth, "Idempotency-Key": key}).status_code == 201


def _read_records(client: Client, person: Person, pages: tuple[str, ...]) -> None:
    for page in pages:
        assert client.get(f"/people/{person.pk}/records/{page}").status_code == 200


def test_every_audit_event_has_a_published_proof_that_go_verifies(client: Client, go_verifier: GoVerifier, db) -> None:
    for i in range(5):
        services.record_audit(actor=None, person=None, action="test.published", step=i, note="検証")
    integrate_all()
    audit = Published(client, go_verifier, LogName.AUDIT)

    checkpoint = go_verifier.checkpoint(audit.checkpoint(), vkeys=audit.vkeys, origin=_origin("audit"))
    assert checkpoint.ok and checkpoint.output.startswith(f"ok checkpoint {_size('audit')} "), checkpoint.output
    for index in range(_size("audit")):
        verdict = audit.verify_inclusion(index)
        assert verdict.ok, verdict.output


def test_every_record_read_by_a_proxy_has_a_published_proof_that_go_verifies(
    client: Client, go_verifier: GoVerifier, alice: Person, carol: User
) -> None:
    seed_record(alice)
    grant_proxy_to(alice, carol)
    sign_in(client, carol.email)
    _read_records(client, alice, ("", "timeline/", "labs/"))
    integrate_all()
    access = Published(Client(), go_verifier, LogName.ACCESS)

    assert _size("access") >= 3
    for index in range(_size("access")):
        verdict = access.verify_inclusion(index)
        assert verdict.ok, verdict.output


def test_every_release_in_the_ledger_has_a_published_proof_that_go_verifies(
    client: Client, go_verifier: GoVerifier, auth, patients, study
) -> None:
    accept(patients["alice"], study)
    accept(patients["bob"], study)
    _release(client, auth, study, "a", ("P-0001", "P-0002"))
    integrate_all()
    ledger = Published(client, go_verifier, LogName.LEDGER)

    assert _size("ledger") == 2
    for index in range(2):
        verdict = ledger.verify_inclusion(index)
        assert verdict.ok, verdict.output


def test_a_published_checkpoint_is_consistent_in_go_with_every_later_one(
    client: Client, go_verifier: GoVerifier, auth, patients, study
) -> None:
    accept(patients["alice"], study)
    accept(patients["bob"], study)
    ledger = Published(client, go_verifier, LogName.LEDGER)
    _release(client, auth, study, "a", ("P-0001",))
    integrate_all()
    first = ledger.checkpoint()
    _release(client, auth, study, "b", ("P-0001", "P-0002"))
    integrate_all()
    second = ledger.checkpoint()
    _release(client, auth, study, "c", ("P-0002",))
    integrate_all()

    from_first, from_second = ledger.verify_consistency(first, 1), ledger.verify_consistency(second, 3)

    assert from_first.ok and from_first.output == "ok consistency 1 4", from_first.output
    assert from_second.ok and from_second.output == "ok consistency 3 4", from_second.output


def test_checkpoints_signed_before_a_key_rotation_still_verify_in_go(
    client: Client, go_verifier: GoVerifier, db, settings
) -> None:
    services.record_audit(actor=None, person=None, action="test.before_rotation")
    integrate_all()
    audit = Published(client, go_verifier, LogName.AUDIT)
    before, size_before = audit.checkpoint(), _size("audit")
    settings.MAMORI_LOG_SIGNING_KEYS = f"{new_log_key_setting('logs-2')},{settings.MAMORI_LOG_SIGNING_KEYS}"
    services.record_audit(actor=None, person=None, action="test.after_rotation")
    integrate_all()

    assert len(audit.vkeys) == 2
    assert go_verifier.checkpoint(before, vkeys=audit.vkeys, origin=_origin("audit")).ok
    assert audit.verify_inclusion(_size("audit") - 1).ok
    verdict = audit.verify_consistency(before, size_before)
    assert verdict.ok, verdict.output


def test_a_record_read_edited_and_rehashed_in_the_database_fails_go_verification(
    client: Client, go_verifier: GoVerifier, alice: Person, carol: User
) -> None:
    seed_record(alice)
    grant_proxy_to(alice, carol)
    sign_in(client, carol.email)
    _read_records(client, alice, ("", "timeline/"))
    integrate_all()
    access = Published(Client(), go_verifier, LogName.ACCESS)
    entry = LogEntry.objects.get(log="access", index=1)
    forged = encode({**json.loads(bytes(entry.body)), "forged": True})

    with tampering():
        LogEntry.objects.filter(pk=entry.pk).update(body=forged)
        rewrite_stored_hashes("access")  # as an attacker covering the edit would; the key they cannot use
        verdict = access.verify_inclusion(1)

    assert not verdict.ok and "invalid transparency proof" in verdict.output


def test_an_entry_that_is_not_in_the_log_fails_go_verification(client: Client, go_verifier: GoVerifier, db) -> None:
    for i in range(3):
        services.record_audit(actor=None, person=None, action="test.published", step=i)
    integrate_all()
    audit = Published(client, go_verifier, LogName.AUDIT)
    real = bytes(LogEntry.objects.get(log="audit", index=1).body)

    verdict = audit.verify_inclusion(1, real.replace(b'"step":1', b'"step":7'))

    assert not verdict.ok and "invalid transparency proof" in verdict.output


def test_the_checkpoints_copied_outside_the_database_are_consistent_in_go_with_the_newest(
    client: Client, go_verifier: GoVerifier, checkpoint_dir: Path, db
) -> None:
    audit = Published(client, go_verifier, LogName.AUDIT)
    for i in range(6):
        services.record_audit(actor=None, person=None, action="test.copied", step=i)
        if i % 2:
            integrate_all()
    copies = sorted((p for p in (checkpoint_dir / "audit").iterdir() if p.name.isdigit()), key=lambda p: int(p.name))

    assert len(copies) >= 3
    for copy in copies[:-1]:
        verdict = audit.verify_consistency(copy.read_text(), int(copy.name))
        assert verdict.ok, verdict.output
    assert copies[-1].read_text() == audit.checkpoint()
