"""Reads of the logs for outsiders: the newest signed checkpoint, inclusion and consistency proofs as text
(C2SP tlog-checkpoint and tlog-proof@v1, which golang.org/x/mod/sumdb/note and sumdb/tlog read)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from phr.models.tlog import LogCheckpoint, LogName
from phr.tlog import merkle, proof
from phr.tlog.store import hash_reader


class ProofUnavailable(Exception):
    """What was asked is not in the log (yet): the log, the entry, or the tree size. ``status`` is 404 or 400."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


def log_named(name: str) -> LogName:
    if name not in LogName.values:
        raise ProofUnavailable(404, f"There is no log named {name!r}; the logs are {', '.join(LogName.values)}.")
    return LogName(name)


@dataclass(frozen=True)
class SignedSize:
    """A log's newest tree size and its signed checkpoint note."""

    size: int
    note: str


def newest_checkpoint(log: str) -> SignedSize:
    # One plain query: a proof is two index lookups, and this one is on every proof's path.
    with connection.cursor() as cursor:
        cursor.execute("SELECT size, note FROM phr_logcheckpoint WHERE log = %s ORDER BY size DESC LIMIT 1", [log])
        row = cursor.fetchone()
    if row is None:
        raise ProofUnavailable(404, f"The {log} log has no signed checkpoint yet.")
    return SignedSize(row[0], row[1])


def inclusion_proof(log: str, index: int) -> str:
    """The tlog-proof@v1 text proving entry ``index`` is in the newest checkpoint (which it carries)."""
    newest = newest_checkpoint(log)
    if index >= newest.size:
        raise ProofUnavailable(404, f"Entry {index} is not in the newest checkpoint ({newest.size} entries).")
    hashes = merkle.prove_record(newest.size, index, hash_reader(log))
    return proof.format_inclusion_proof(index, hashes, newest.note)


def consistency_proof(log: str, old: int, new: int | None = None) -> str:
    """The proof that the tree of size ``old`` is a prefix of the tree of size ``new`` (default: the newest)."""
    newest = newest_checkpoint(log)
    new = newest.size if new is None else new
    if new > newest.size:
        raise ProofUnavailable(404, f"The newest checkpoint has {newest.size} entries, fewer than {new}.")
    if old > new:
        raise ProofUnavailable(400, f"old ({old}) must not be larger than new ({new}).")
    hashes = merkle.prove_tree(new, old, hash_reader(log)) if 0 < old < new else []
    # With the newer tree's signed checkpoint when there is one: a C2SP tlog-witness add-checkpoint body.
    signed = LogCheckpoint.objects.filter(log=log, size=new).values_list("note", flat=True).first()
    return proof.format_consistency_proof(old, new, hashes, signed)
