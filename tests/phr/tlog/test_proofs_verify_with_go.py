"""What the Python code signs and proves verifies with Go's golang.org/x/mod/sumdb/note and sumdb/tlog, code
no one here wrote; every manipulation an attacker without the signing key could make is rejected by it."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from phr.tlog import merkle, note, proof
from phr.tlog.canonical import encode
from phr.tlog.checkpoint import Checkpoint
from tests.phr.tlog.go_tools import GoVerifier
from tests.phr.tlog.memory_log import MemoryLog

ORIGIN = "mamori.example/logs/audit"


class SignedLog:
    """A log of canonical entries with a signing key, as the integrator keeps it."""

    def __init__(self, size: int, seed: bytes | None = None) -> None:
        key = Ed25519PrivateKey.from_private_bytes(seed) if seed else Ed25519PrivateKey.generate()
        self.signer = note.parse_signer_key(note.signer_key(ORIGIN, key))
        self.vkeys = [note.verifier_key(ORIGIN, key.public_key())]
        self.log = MemoryLog(
            [encode({"action": "record.read", "index": i, "person": f"p{i % 7}"}) for i in range(size)]
        )

    def checkpoint(self, size: int | None = None, root: bytes | None = None) -> str:
        size = len(self.log.entries) if size is None else size
        text = Checkpoint(ORIGIN, size, self.log.root(size) if root is None else root).text()
        return note.sign_note(text, [self.signer])

    def inclusion(self, index: int) -> str:
        size = len(self.log.entries)
        hashes = merkle.prove_record(size, index, self.log.read)
        return proof.format_inclusion_proof(index, hashes, self.checkpoint())

    def consistency(self, old: int, new: int) -> str:
        hashes = merkle.prove_tree(new, old, self.log.read) if 0 < old < new else []
        return proof.format_consistency_proof(old, new, hashes, self.checkpoint(new))


def _indexes(size: int) -> list[int]:
    return sorted({*range(0, size, max(1, size // 40)), size - 1})


@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 9, 64, 300])
def test_every_inclusion_proof_made_here_verifies_in_go(go_verifier: GoVerifier, size: int) -> None:
    log = SignedLog(size)

    for index in _indexes(size):
        verdict = go_verifier.inclusion(log.inclusion(index), log.log.entries[index], vkeys=log.vkeys, origin=ORIGIN)
        assert verdict.ok, verdict.output
        assert verdict.output == f"ok inclusion {index} {size}"


def test_a_checkpoint_made_here_reads_in_go_with_its_size_and_root(go_verifier: GoVerifier) -> None:
    log = SignedLog(11)

    verdict = go_verifier.checkpoint(log.checkpoint(), vkeys=log.vkeys, origin=ORIGIN)

    assert verdict.output == f"ok checkpoint 11 {base64.b64encode(log.log.root()).decode()}"


def test_go_reads_the_verifier_keys_after_a_rotation(go_verifier: GoVerifier) -> None:
    old, new = SignedLog(5), SignedLog(5)

    verdict = go_verifier.checkpoint(old.checkpoint(), vkeys=[*new.vkeys, *old.vkeys], origin=ORIGIN)

    assert verdict.ok, verdict.output


def test_go_rejects_an_inclusion_proof_for_a_changed_entry(go_verifier: GoVerifier) -> None:
    log = SignedLog(9)
    edited = log.log.entries[4].replace(b"record.read", b"record.edit")

    verdict = go_verifier.inclusion(log.inclusion(4), edited, vkeys=log.vkeys, origin=ORIGIN)

    assert not verdict.ok and "invalid transparency proof" in verdict.output


def test_go_rejects_an_inclusion_proof_moved_to_another_index(go_verifier: GoVerifier) -> None:
    log = SignedLog(9)
    moved = log.inclusion(4).replace("\nindex 4\n", "\nindex 5\n")

    verdict = go_verifier.inclusion(moved, log.log.entries[4], vkeys=log.vkeys, origin=ORIGIN)

    assert not verdict.ok and "invalid transparency proof" in verdict.output


def test_go_rejects_an_inclusion_proof_with_a_changed_hash(go_verifier: GoVerifier) -> None:
    log = SignedLog(9)
    lines = log.inclusion(4).split("\n")
    lines[2] = base64.b64encode(b"\x00" * 32).decode()

    verdict = go_verifier.inclusion("\n".join(lines), log.log.entries[4], vkeys=log.vkeys, origin=ORIGIN)

    assert not verdict.ok and "invalid transparency proof" in verdict.output


def test_go_rejects_a_proof_against_a_checkpoint_signed_over_another_root(go_verifier: GoVerifier) -> None:
    log = SignedLog(9)
    hashes = merkle.prove_record(9, 4, log.log.read)
    wrong_root = log.checkpoint(root=merkle.record_hash(b"another tree"))

    verdict = go_verifier.inclusion(
        proof.format_inclusion_proof(4, hashes, wrong_root), log.log.entries[4], vkeys=log.vkeys, origin=ORIGIN
    )

    assert not verdict.ok and "invalid transparency proof" in verdict.output


@pytest.mark.parametrize("field", ["size", "root"])
def test_go_rejects_a_checkpoint_whose_size_or_root_was_changed_after_signing(go_verifier: GoVerifier, field) -> None:
    log = SignedLog(9)
    signed = log.checkpoint()
    if field == "size":
        tampered = signed.replace(f"{ORIGIN}\n9\n", f"{ORIGIN}\n8\n")
    else:
        tampered = signed.replace(
            base64.b64encode(log.log.root(9)).decode(), base64.b64encode(log.log.root(8)).decode()
        )
    assert tampered != signed

    verdict = go_verifier.checkpoint(tampered, vkeys=log.vkeys, origin=ORIGIN)

    assert not verdict.ok and "invalid signature" in verdict.output


def test_go_rejects_a_checkpoint_signed_by_another_key(go_verifier: GoVerifier) -> None:
    log, impostor = SignedLog(9), SignedLog(9)

    verdict = go_verifier.inclusion(impostor.inclusion(4), log.log.entries[4], vkeys=log.vkeys, origin=ORIGIN)

    assert not verdict.ok and "no verifiable signatures" in verdict.output


def test_go_rejects_a_checkpoint_of_another_log(go_verifier: GoVerifier) -> None:
    log = SignedLog(3)

    verdict = go_verifier.checkpoint(log.checkpoint(), vkeys=log.vkeys, origin="mamori.example/logs/ledger")

    assert not verdict.ok and "origin" in verdict.output


@pytest.mark.parametrize(("old", "new"), [(1, 1), (1, 2), (3, 7), (4, 8), (5, 9), (8, 9), (100, 300), (256, 300)])
def test_consistency_proofs_between_two_checkpoints_made_here_verify_in_go(
    go_verifier: GoVerifier, old: int, new: int
) -> None:
    log = SignedLog(300)

    verdict = go_verifier.consistency(log.consistency(old, new), log.checkpoint(old), vkeys=log.vkeys, origin=ORIGIN)

    assert verdict.ok, verdict.output
    assert verdict.output == f"ok consistency {old} {new}"


def test_a_consistency_proof_without_its_checkpoint_verifies_in_go_given_the_checkpoint(
    go_verifier: GoVerifier,
) -> None:
    log = SignedLog(20)
    text = proof.format_consistency_proof(6, 20, merkle.prove_tree(20, 6, log.log.read))

    verdict = go_verifier.consistency(text, log.checkpoint(6), new=log.checkpoint(20), vkeys=log.vkeys, origin=ORIGIN)

    assert verdict.ok, verdict.output


def test_go_rejects_a_newer_checkpoint_over_a_rewritten_history(go_verifier: GoVerifier) -> None:
    log = SignedLog(20, seed=bytes(32))
    forked = SignedLog(20, seed=bytes(32))  # the same key, as an attacker holding the database and key would
    forked.log = MemoryLog([*log.log.entries[:5], b"rewritten", *log.log.entries[6:]])

    verdict = go_verifier.consistency(forked.consistency(10, 20), log.checkpoint(10), vkeys=log.vkeys, origin=ORIGIN)

    assert not verdict.ok and "invalid transparency proof" in verdict.output


def test_go_rejects_a_consistency_proof_with_a_changed_hash_or_old_size(go_verifier: GoVerifier) -> None:
    log = SignedLog(20)
    text = log.consistency(6, 20)
    first_hash = text.split("\n")[1]

    changed_hash = text.replace(first_hash, base64.b64encode(b"\x01" * 32).decode())
    changed_size = text.replace("old 6\n", "old 7\n")

    assert not go_verifier.consistency(changed_hash, log.checkpoint(6), vkeys=log.vkeys, origin=ORIGIN).ok
    assert not go_verifier.consistency(changed_size, log.checkpoint(6), vkeys=log.vkeys, origin=ORIGIN).ok
    assert not go_verifier.consistency(changed_size, log.checkpoint(7), vkeys=log.vkeys, origin=ORIGIN).ok
