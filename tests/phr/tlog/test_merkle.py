"""RFC 6962 hashing and proofs: the published test vectors, and for every tree of 1..300 entries, every
inclusion and consistency proof checks while any change to an entry, a hash, an index or a size fails."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phr.tlog import merkle
from phr.tlog.merkle import ProofError
from tests.phr.tlog.memory_log import MemoryLog

# The leaves and tree heads of the RFC 6962 reference implementation's tests (certificate-transparency,
# merkle_tree_test), which every CT and tlog implementation checks itself against.
VECTOR_LEAVES = [
    bytes.fromhex(x)
    for x in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
]
VECTOR_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
VECTOR_INCLUSION = [  # (leaf index, tree size, audit path)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
VECTOR_CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip

trees = st.lists(st.binary(max_size=40), min_size=1, max_size=300)


def _flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 1]) + value[1:]


def test_the_tree_heads_match_the_rfc_6962_reference_vectors() -> None:
    log = MemoryLog(VECTOR_LEAVES)

    assert [log.root(size).hex() for size in range(1, 9)] == VECTOR_ROOTS
    assert merkle.tree_hash(0, log.read) == hashlib.sha256(b"").digest()


@pytest.mark.parametrize(("index", "size", "path"), VECTOR_INCLUSION)
def test_inclusion_proofs_match_the_rfc_6962_reference_vectors(index: int, size: int, path: list[str]) -> None:
    log = MemoryLog(VECTOR_LEAVES)

    proof = merkle.prove_record(size, index, log.read)

    assert [h.hex() for h in proof] == path
    merkle.check_record(proof, size, log.root(size), index, merkle.record_hash(VECTOR_LEAVES[index]))


@pytest.mark.parametrize(("old", "new", "path"), VECTOR_CONSISTENCY)
def test_consistency_proofs_match_the_rfc_6962_reference_vectors(old: int, new: int, path: list[str]) -> None:
    log = MemoryLog(VECTOR_LEAVES)

    proof = merkle.prove_tree(new, old, log.read)

    assert [h.hex() for h in proof] == path
    merkle.check_tree(proof, new, log.root(new), old, log.root(old))


@settings(max_examples=40, deadline=None)
@given(entries=trees, cut=st.integers(min_value=0, max_value=300))
def test_appending_in_one_batch_stores_the_same_hashes_as_appending_one_by_one(entries: list[bytes], cut: int) -> None:
    one_by_one: dict[int, bytes] = {}
    for n, entry in enumerate(entries):
        stored = merkle.stored_hashes_for_record_hash(
            n, merkle.record_hash(entry), lambda ix: [one_by_one[i] for i in ix]
        )
        start = merkle.stored_hash_index(0, n)
        one_by_one.update({start + offset: h for offset, h in enumerate(stored)})

    batched = MemoryLog(entries[:cut])
    batched.append(entries[cut:])

    assert batched.hashes == one_by_one
    assert len(one_by_one) == merkle.stored_hash_count(len(entries))
    assert sorted(one_by_one) == list(range(len(one_by_one)))


@settings(max_examples=40, deadline=None)
@given(entries=trees)
def test_every_entry_of_every_tree_size_has_an_inclusion_proof_that_checks(entries: list[bytes]) -> None:
    log = MemoryLog(entries)
    size, root = len(entries), log.root()

    for index, entry in enumerate(entries):
        proof = merkle.prove_record(size, index, log.read)
        merkle.check_record(proof, size, root, index, merkle.record_hash(entry))


@settings(max_examples=40, deadline=None)
@given(entries=trees, data=st.data())
def test_an_inclusion_proof_fails_for_a_changed_entry_index_hash_or_root(entries: list[bytes], data) -> None:
    log = MemoryLog(entries)
    size, root = len(entries), log.root()
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    leaf = merkle.record_hash(entries[index])
    proof = merkle.prove_record(size, index, log.read)

    with pytest.raises(ProofError):
        merkle.check_record(proof, size, root, index, merkle.record_hash(entries[index] + b"!"))
    with pytest.raises(ProofError):
        merkle.check_record(proof, size, _flip(root), index, leaf)
    if proof:
        changed = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        with pytest.raises(ProofError):
            merkle.check_record(
                [*proof[:changed], _flip(proof[changed]), *proof[changed + 1 :]], size, root, index, leaf
            )
        with pytest.raises(ProofError):
            merkle.check_record(proof[:-1], size, root, index, leaf)
    other = data.draw(st.integers(min_value=0, max_value=size - 1))
    if entries[other] != entries[index]:
        with pytest.raises(ProofError):
            merkle.check_record(proof, size, root, other, leaf)


@settings(max_examples=40, deadline=None)
@given(entries=trees, data=st.data())
def test_every_older_tree_has_a_consistency_proof_to_every_newer_one(entries: list[bytes], data) -> None:
    log = MemoryLog(entries)
    new = data.draw(st.integers(min_value=1, max_value=len(entries)))
    new_root = log.root(new)

    for old in range(1, new + 1):
        merkle.check_tree(merkle.prove_tree(new, old, log.read), new, new_root, old, log.root(old))


@settings(max_examples=40, deadline=None)
@given(entries=trees.filter(lambda e: len(e) >= 2), data=st.data())
def test_a_consistency_proof_fails_for_a_rewritten_history_or_changed_hash(entries: list[bytes], data) -> None:
    log = MemoryLog(entries)
    new = data.draw(st.integers(min_value=2, max_value=len(entries)))
    old = data.draw(st.integers(min_value=1, max_value=new - 1))
    proof = merkle.prove_tree(new, old, log.read)
    rewritten = MemoryLog([*entries[: old - 1], entries[old - 1] + b"!"])

    with pytest.raises(ProofError):
        merkle.check_tree(proof, new, log.root(new), old, rewritten.root())
    with pytest.raises(ProofError):
        merkle.check_tree(proof, new, _flip(log.root(new)), old, log.root(old))
    changed = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    with pytest.raises(ProofError):
        merkle.check_tree(
            [*proof[:changed], _flip(proof[changed]), *proof[changed + 1 :]], new, log.root(new), old, log.root(old)
        )
    with pytest.raises(ProofError):
        merkle.check_tree(proof, new, log.root(new), old, log.root(old + 1))


def test_stored_hash_indexes_split_back_into_their_level_and_position() -> None:
    for level in range(12):
        for n in range(300):
            assert merkle.split_stored_hash_index(merkle.stored_hash_index(level, n)) == (level, n)


def test_proofs_for_entries_outside_the_tree_are_refused() -> None:
    log = MemoryLog([b"a", b"b"])

    with pytest.raises(ProofError):
        merkle.prove_record(2, 2, log.read)
    with pytest.raises(ProofError):
        merkle.prove_tree(2, 3, log.read)
    with pytest.raises(ProofError):
        merkle.check_tree([], 2, log.root(), 0, log.root())
