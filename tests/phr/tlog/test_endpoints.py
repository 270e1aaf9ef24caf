"""GET /logs/<name>/checkpoint, /verifier, /proof and /consistency: public, text in the C2SP formats, and
problem+json for anything not in the log."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from phr import services
from phr.models import LogCheckpoint, LogEntry, LogName
from phr.tlog import merkle, note, proof
from phr.tlog.checkpoint import Checkpoint
from phr.tlog.integrate import integrate
from phr.tlog.keys import new_log_key_setting
from tests.phr.tlog.store_helpers import checkpoint_dir

__all__ = ["checkpoint_dir"]
pytestmark = pytest.mark.usefixtures("checkpoint_dir")


@pytest.fixture
def seven_events(db) -> None:
    """Seven audit events in two checkpoints (sizes 4 and 7)."""
    for i in range(7):
        services.record_audit(actor=None, person=None, action=f"test.event_{i}")
        if i == 3:
            integrate(LogName.AUDIT)
    integrate(LogName.AUDIT)


def _verifiers(client: Client) -> list[str]:
    response = client.get("/logs/audit/verifier")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    return response.content.decode().splitlines()


def _opened(client: Client, signed: str) -> Checkpoint:
    return Checkpoint.parse(note.open_note(signed, _verifiers(client)))


def _inclusion(text: str) -> tuple[int, list[bytes], str]:
    """The index, proof hashes and signed checkpoint of a c2sp.org/tlog-proof@v1 text."""
    head, _blank, signed = text.partition("\n\n")
    lines = head.split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1" and lines[1].startswith("index ")
    return int(lines[1].removeprefix("index ")), [base64.b64decode(line) for line in lines[2:]], signed


def _leaf(index: int) -> bytes:
    return merkle.record_hash(bytes(LogEntry.objects.get(log="audit", index=index).body))


def test_the_checkpoint_is_the_newest_signed_note_and_opens_with_the_published_verifier(
    client: Client, seven_events: None
) -> None:
    response = client.get("/logs/audit/checkpoint")

    assert response.status_code == 200 and response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == LogCheckpoint.objects.get(log="audit", size=7).note
    opened = _opened(client, response.content.decode())
    assert (opened.origin, opened.size) == ("mamori.localhost/logs/audit", 7)


def test_an_inclusion_proof_proves_each_entry_against_the_newest_checkpoint(client: Client, seven_events: None) -> None:
    for index in range(7):
        response = client.get("/logs/audit/proof", {"index": index})
        assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
        proved, hashes, signed = _inclusion(response.content.decode())
        checkpoint = _opened(client, signed)

        assert proved == index and checkpoint.size == 7
        merkle.check_record(hashes, 7, checkpoint.root_hash, index, _leaf(index))


def test_a_consistency_proof_links_an_older_checkpoint_to_the_newest(client: Client, seven_events: None) -> None:
    old = _opened(client, LogCheckpoint.objects.get(log="audit", size=4).note)
    new = _opened(client, client.get("/logs/audit/checkpoint").content.decode())

    response = client.get("/logs/audit/consistency", {"old": 4})

    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    parsed = proof.parse_consistency_proof(response.content.decode())
    assert (parsed.old_size, parsed.new_size) == (4, 7)
    merkle.check_tree(parsed.hashes, new.size, new.root_hash, old.size, old.root_hash)


def test_after_a_key_rotation_old_checkpoints_still_open_with_the_published_verifiers(
    client: Client, seven_events: None, settings
) -> None:
    old_note = LogCheckpoint.objects.get(log="audit", size=7).note
    settings.MAMORI_LOG_SIGNING_KEYS = f"{new_log_key_setting('logs-2')},{settings.MAMORI_LOG_SIGNING_KEYS}"
    services.record_audit(actor=None, person=None, action="test.after_rotation")
    integrate(LogName.AUDIT)

    verifiers = _verifiers(client)

    assert len(verifiers) == 2
    assert _opened(client, old_note).size == 7
    assert _opened(client, client.get("/logs/audit/checkpoint").content.decode()).size == 8
    assert LogCheckpoint.objects.get(log="audit", size=8).key_id == "logs-2"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/logs/nope/checkpoint", 404),
        ("/logs/nope/verifier", 404),
        ("/logs/audit/proof", 400),
        ("/logs/audit/proof?index=-1", 400),
        ("/logs/audit/proof?index=abc", 400),
        ("/logs/audit/proof?index=7", 404),
        ("/logs/audit/consistency?old=8", 400),
        ("/logs/audit/consistency?old=1&new=9", 404),
        ("/logs/audit/consistency", 400),
    ],
)
def test_what_is_not_in_the_log_is_a_problem(client: Client, seven_events: None, path: str, status: int) -> None:
    response = client.get(path)

    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == status


def test_a_log_without_a_checkpoint_yet_answers_404(client: Client, db) -> None:
    response = client.get("/logs/ledger/checkpoint")

    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"


def test_the_endpoints_need_no_sign_in_and_are_not_cached(client: Client, seven_events: None) -> None:
    response = client.get("/logs/audit/checkpoint")

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
