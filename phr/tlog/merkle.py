"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and the stored-hash layout of Go's ``sumdb/tlog``.

A port of golang.org/x/mod/sumdb/tlog (tlog.go), so that proofs made here check with that package and
with any RFC 6962 verifier. Every node of the tree that is the root of a complete subtree is stored once,
at the dense index ``stored_hash_index(level, n)`` (Crosby and Wallach, "Efficient Data Structures for
Tamper-Evident Logging", §3.3): appending record n stores its leaf hash and the hashes of the subtrees it
completes, all at consecutive indexes, so storage is append-only and any proof needs at most 2·log₂ n reads.

Pure: no I/O. Stored hashes come from a ``HashReader``, a callable that returns the hashes at the given
stored-hash indexes in the order asked and raises if one is missing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

Hash = bytes
HashReader = Callable[[Sequence[int]], list[bytes]]

HASH_SIZE = 32
# RFC 9162 §2.1.1: the hash of the empty tree is the hash of the empty string. (Go's TreeHash returns all
# zeros for size 0, but Go never checks a proof against an empty tree, so the two never meet.)
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof that does not prove what it was checked against, or inputs no proof can exist for."""


def record_hash(data: bytes) -> Hash:
    """The leaf hash of a record: SHA-256(0x00 ‖ data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: Hash, right: Hash) -> Hash:
    """The hash of an interior node: SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _maxpow2(n: int) -> tuple[int, int]:
    """k, the largest power of 2 smaller than n, and log₂ k."""
    level = max(n - 1, 1).bit_length() - 1
    return 1 << level, level


def stored_hash_index(level: int, n: int) -> int:
    """The storage index of the n'th hash at ``level`` (level 0 holds the leaves)."""
    # Level L's n'th hash is stored right after level L+1's (2n+1)'th, so walk down to level 0, where the
    # n'th hash sits at n + n/2 + n/4 + … = 2n - popcount(n).
    n = (n << level) + (1 << level) - 1
    return 2 * n - n.bit_count() + level


def split_stored_hash_index(index: int) -> tuple[int, int]:
    """The (level, n) stored at ``index``: the inverse of stored_hash_index."""
    # stored_hash_index(0, n) < 2n, so the record that stored this hash is in [index/2, index/2 + log₂ index].
    n = index // 2
    index_n = stored_hash_index(0, n)
    if index_n > index:
        raise AssertionError("tlog: bad math in split_stored_hash_index")
    while True:
        # Record n stores 1 + trailing_zeros(n + 1) hashes.
        following = index_n + 1 + _trailing_zeros(n + 1)
        if following > index:
            break
        n += 1
        index_n = following
    level = index - index_n
    return level, n >> level


def _trailing_zeros(n: int) -> int:
    return (n & -n).bit_length() - 1


def stored_hash_count(n: int) -> int:
    """How many hashes are stored for a tree of n records."""
    if n == 0:
        return 0
    count = stored_hash_index(0, n - 1) + 1
    # …and one more for every subtree the last leaf completed.
    return count + _trailing_zeros(n)


def stored_hashes_for_record_hash(n: int, h: Hash, read: HashReader) -> list[Hash]:
    """The hashes to store, from index stored_hash_index(0, n) on, when appending record n with leaf hash h."""
    # Each trailing 1 bit of n completes a subtree, consuming the hash of its left sibling.
    m = _trailing_zeros(n + 1)
    indexes = [stored_hash_index(i, (n >> i) - 1) for i in reversed(range(m))]
    old = _read(read, indexes)
    hashes = [h]
    for i in range(m):
        h = node_hash(old[m - 1 - i], h)
        hashes.append(h)
    return hashes


def stored_hashes_for_records(start_n: int, leaf_hashes: Sequence[Hash], read: HashReader) -> list[tuple[int, Hash]]:
    """(index, hash) of every hash to store when appending the records start_n, start_n + 1, … at once.

    The same hashes as calling stored_hashes_for_record_hash for each record in turn, with one read of the
    existing tree's right edge (at most log₂ start_n hashes) instead of a read per record.
    """
    # The right edge of a tree of size N: the roots of its complete subtrees, largest first (one per set
    # bit of N). Appending a leaf merges it with as many of the smallest as N has trailing 1 bits.
    edge = _read(read, _subtree_indexes(0, start_n)) if start_n else []
    out: list[tuple[int, Hash]] = []
    for n, h in enumerate(leaf_hashes, start_n):
        index = stored_hash_index(0, n)
        out.append((index, h))
        for offset in range(1, _trailing_zeros(n + 1) + 1):
            h = node_hash(edge.pop(), h)
            out.append((index + offset, h))
        edge.append(h)
    return out


def _read(read: HashReader, indexes: list[int]) -> list[Hash]:
    if not indexes:
        return []
    hashes = list(read(indexes))
    if len(hashes) != len(indexes):
        raise LookupError(f"tlog: read {len(indexes)} hashes, got {len(hashes)}")
    return hashes


def tree_hash(n: int, read: HashReader) -> Hash:
    """The root hash of the tree of the first n records (the RFC 9162 empty-tree hash for n = 0)."""
    if n == 0:
        return EMPTY_ROOT
    indexes = _subtree_indexes(0, n)
    h, rest = _subtree_hash(0, n, _read(read, indexes))
    if rest:
        raise AssertionError("tlog: bad index math in tree_hash")
    return h


def _subtree_indexes(lo: int, hi: int, need: list[int] | None = None) -> list[int]:
    """The stored indexes needed to compute the hash of the subtree of records [lo, hi)."""
    need = [] if need is None else need
    while lo < hi:
        k, level = _maxpow2(hi - lo + 1)
        if lo & (k - 1):
            raise AssertionError("tlog: bad math in _subtree_indexes")
        need.append(stored_hash_index(level, lo >> level))
        lo += k
    return need


def _subtree_hash(lo: int, hi: int, hashes: list[Hash]) -> tuple[Hash, list[Hash]]:
    """The hash of the subtree of records [lo, hi) from the hashes _subtree_indexes asked for, and the rest."""
    # [lo, hi) splits into complete subtrees, largest first; the root folds them from the right.
    count = 0
    while lo < hi:
        k, _ = _maxpow2(hi - lo + 1)
        count += 1
        lo += k
    if len(hashes) < count:
        raise AssertionError("tlog: bad index math in _subtree_hash")
    h = hashes[count - 1]
    for i in range(count - 2, -1, -1):
        h = node_hash(hashes[i], h)
    return h, hashes[count:]


def prove_record(t: int, n: int, read: HashReader) -> list[Hash]:
    """The proof (RFC 6962 audit path) that the tree of size t contains record n."""
    if t < 0 or n < 0 or n >= t:
        raise ProofError(f"no record {n} in a tree of size {t}")
    indexes = _leaf_proof_indexes(0, t, n, [])
    proof, rest = _leaf_proof(0, t, n, _read(read, indexes))
    if rest:
        raise AssertionError("tlog: bad index math in prove_record")
    return proof


def _leaf_proof_indexes(lo: int, hi: int, n: int, need: list[int]) -> list[int]:
    if lo + 1 == hi:
        return need
    k, _ = _maxpow2(hi - lo)
    if n < lo + k:
        _leaf_proof_indexes(lo, lo + k, n, need)
        _subtree_indexes(lo + k, hi, need)
    else:
        _subtree_indexes(lo, lo + k, need)
        _leaf_proof_indexes(lo + k, hi, n, need)
    return need


def _leaf_proof(lo: int, hi: int, n: int, hashes: list[Hash]) -> tuple[list[Hash], list[Hash]]:
    if lo + 1 == hi:
        # The verifier knows the leaf hash: it is not sent.
        return [], hashes
    k, _ = _maxpow2(hi - lo)
    if n < lo + k:
        proof, hashes = _leaf_proof(lo, lo + k, n, hashes)
        sibling, hashes = _subtree_hash(lo + k, hi, hashes)
    else:
        sibling, hashes = _subtree_hash(lo, lo + k, hashes)
        proof, hashes = _leaf_proof(lo + k, hi, n, hashes)
    return [*proof, sibling], hashes


def check_record(proof: Sequence[Hash], t: int, th: Hash, n: int, h: Hash) -> None:
    """Pass if ``proof`` proves that the tree of size t with root th has record n with leaf hash h."""
    if t < 0 or n < 0 or n >= t:
        raise ProofError(f"no record {n} in a tree of size {t}")
    if _run_record_proof(list(proof), 0, t, n, h) != th:
        raise ProofError("invalid transparency proof")


def _run_record_proof(proof: list[Hash], lo: int, hi: int, n: int, leaf: Hash) -> Hash:
    if lo + 1 == hi:
        if proof:  # no unneeded hashes
            raise ProofError("invalid transparency proof")
        return leaf
    if not proof:
        raise ProofError("invalid transparency proof")
    k, _ = _maxpow2(hi - lo)
    if n < lo + k:
        return node_hash(_run_record_proof(proof[:-1], lo, lo + k, n, leaf), proof[-1])
    return node_hash(proof[-1], _run_record_proof(proof[:-1], lo + k, hi, n, leaf))


def prove_tree(t: int, n: int, read: HashReader) -> list[Hash]:
    """The proof (RFC 6962 consistency proof) that the tree of size t has the tree of size n as a prefix."""
    if t < 1 or n < 1 or n > t:
        raise ProofError(f"no consistency proof from size {n} to size {t}")
    indexes = _tree_proof_indexes(0, t, n, [])
    proof, rest = _tree_proof(0, t, n, _read(read, indexes))
    if rest:
        raise AssertionError("tlog: bad index math in prove_tree")
    return proof


def _tree_proof_indexes(lo: int, hi: int, n: int, need: list[int]) -> list[int]:
    if n == hi:
        return need if lo == 0 else _subtree_indexes(lo, hi, need)
    k, _ = _maxpow2(hi - lo)
    if n <= lo + k:
        _tree_proof_indexes(lo, lo + k, n, need)
        _subtree_indexes(lo + k, hi, need)
    else:
        _subtree_indexes(lo, lo + k, need)
        _tree_proof_indexes(lo + k, hi, n, need)
    return need


def _tree_proof(lo: int, hi: int, n: int, hashes: list[Hash]) -> tuple[list[Hash], list[Hash]]:
    if n == hi:
        if lo == 0:
            # This subtree is the old tree: the verifier knows its hash.
            return [], hashes
        h, hashes = _subtree_hash(lo, hi, hashes)
        return [h], hashes
    k, _ = _maxpow2(hi - lo)
    if n <= lo + k:
        proof, hashes = _tree_proof(lo, lo + k, n, hashes)
        sibling, hashes = _subtree_hash(lo + k, hi, hashes)
    else:
        sibling, hashes = _subtree_hash(lo, lo + k, hashes)
        proof, hashes = _tree_proof(lo + k, hi, n, hashes)
    return [*proof, sibling], hashes


def check_tree(proof: Sequence[Hash], t: int, th: Hash, n: int, h: Hash) -> None:
    """Pass if ``proof`` proves that the tree of size t with root th has as prefix the tree of size n with root h."""
    if t < 1 or n < 1 or n > t:
        raise ProofError(f"no consistency proof from size {n} to size {t}")
    old, new = _run_tree_proof(list(proof), 0, t, n, h)
    if old != h or new != th:
        raise ProofError("invalid transparency proof")


def _run_tree_proof(proof: list[Hash], lo: int, hi: int, n: int, old: Hash) -> tuple[Hash, Hash]:
    """The hashes of the subtree [lo, hi) in the old tree and in the new one, as the proof implies them."""
    if n == hi:
        if lo == 0:
            if proof:
                raise ProofError("invalid transparency proof")
            return old, old
        if len(proof) != 1:
            raise ProofError("invalid transparency proof")
        return proof[0], proof[0]
    if not proof:
        raise ProofError("invalid transparency proof")
    k, _ = _maxpow2(hi - lo)
    if n <= lo + k:
        oh, th = _run_tree_proof(proof[:-1], lo, lo + k, n, old)
        return oh, node_hash(th, proof[-1])
    oh, th = _run_tree_proof(proof[:-1], lo + k, hi, n, old)
    return node_hash(proof[-1], oh), node_hash(proof[-1], th)
