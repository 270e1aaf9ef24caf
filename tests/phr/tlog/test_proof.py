"""Proof texts: C2SP tlog-proof@v1 for inclusion, the tlog-witness add-checkpoint body for consistency."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phr.tlog import proof
from phr.tlog.checkpoint import Checkpoint
from phr.tlog.proof import ProofFormatError

HASHES = [bytes([i]) * 32 for i in range(3)]
SIGNED = Checkpoint("example.com/log", 9, bytes(32)).text() + "\n— example.com/log AAAAAQ==\n"

hash_lists = st.lists(st.binary(min_size=32, max_size=32), max_size=63)


def test_an_inclusion_proof_is_written_as_the_spec_shows() -> None:
    text = proof.format_inclusion_proof(7, HASHES[:2], SIGNED, extra=b"age")

    assert text == (
        "c2sp.org/tlog-proof@v1\n"
        "extra YWdl\n"
        "index 7\n"
        f"{base64.b64encode(HASHES[0]).decode()}\n"
        f"{base64.b64encode(HASHES[1]).decode()}\n"
        "\n" + SIGNED
    )


@given(index=st.integers(min_value=0, max_value=2**63 - 1), hashes=hash_lists, extra=st.none() | st.binary())
def test_every_inclusion_proof_reads_back(index: int, hashes: list[bytes], extra: bytes | None) -> None:
    parsed = proof.parse_inclusion_proof(proof.format_inclusion_proof(index, hashes, SIGNED, extra))

    assert parsed == proof.InclusionProof(index, tuple(hashes), SIGNED, extra)


@pytest.mark.parametrize(
    "text",
    [
        "c2sp.org/tlog-proof@v2\nindex 1\n\n" + SIGNED,
        "c2sp.org/tlog-proof@v1\nindex 01\n\n" + SIGNED,
        "c2sp.org/tlog-proof@v1\n\n" + SIGNED,  # no index line
        "c2sp.org/tlog-proof@v1\nindex 1\nnot-base64!\n\n" + SIGNED,
        "c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\n" + SIGNED,  # a 3-byte hash
        "c2sp.org/tlog-proof@v1\nindex 1\n" + SIGNED,  # no empty line
        "c2sp.org/tlog-proof@v1\nindex 1\n\n",  # no checkpoint
    ],
)
def test_malformed_inclusion_proofs_are_refused(text: str) -> None:
    with pytest.raises(ProofFormatError):
        proof.parse_inclusion_proof(text)


def test_a_consistency_proof_with_its_checkpoint_is_a_tlog_witness_request_body() -> None:
    text = proof.format_consistency_proof(4, 9, HASHES[:1], SIGNED)

    assert text == f"old 4\n{base64.b64encode(HASHES[0]).decode()}\n\n{SIGNED}"
    assert proof.parse_consistency_proof(text) == proof.ConsistencyProof(4, 9, (HASHES[0],), SIGNED)


@given(old=st.integers(min_value=0, max_value=1000), more=st.integers(min_value=0, max_value=1000), hashes=hash_lists)
def test_every_consistency_proof_without_a_checkpoint_reads_back(old: int, more: int, hashes: list[bytes]) -> None:
    text = proof.format_consistency_proof(old, old + more, hashes)

    assert proof.parse_consistency_proof(text) == proof.ConsistencyProof(old, old + more, tuple(hashes))


def test_a_consistency_proof_must_name_the_size_of_the_checkpoint_it_carries() -> None:
    with pytest.raises(ProofFormatError):
        proof.format_consistency_proof(4, 8, [], SIGNED)
    with pytest.raises(ProofFormatError):
        proof.parse_consistency_proof("old 10\n\n" + SIGNED)
    with pytest.raises(ProofFormatError):
        proof.format_consistency_proof(5, 4, [])
