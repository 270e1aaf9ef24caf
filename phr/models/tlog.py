"""The tamper-evident logs (DESIGN.md §7): entries, the Merkle tree's stored hashes, and signed checkpoints.

An entry is queued (``index`` null) in the same transaction as the event it records; the integrator gives
queued entries their index in the order it finds them committed, stores the new hashes of the tree
(golang.org/x/mod/sumdb/tlog's layout: one row per stored hash) and signs a checkpoint, all in one
transaction. See docs/decisions/0002-log-sequencing.md.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class LogName(models.TextChoices):
    """The three logs: releases ledger, record-access log, audit log."""

    LEDGER = "ledger", "ledger"
    ACCESS = "access", "access"
    AUDIT = "audit", "audit"


class LogEntry(models.Model):
    """One entry of a log: the canonical bytes (RFC 8785 JSON) of an event, and its index once integrated."""

    id = models.BigAutoField(primary_key=True)
    log = models.CharField(max_length=8, choices=LogName.choices)
    body = models.BinaryField()
    sequenced_at = models.DateTimeField(default=timezone.now)
    # Set once, by the integrator; an entry without one is queued.
    index = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["log", "index"], name="logentry_unique_index")]
        indexes = [
            models.Index(fields=["log", "id"], condition=models.Q(index__isnull=True), name="logentry_queued_idx")
        ]

    def __str__(self) -> str:
        where = "queued" if self.index is None else f"#{self.index}"
        return f"{self.log} entry {where}"


class LogHash(models.Model):
    """One stored hash of a log's Merkle tree, at its tlog stored-hash index (leaves and complete subtrees)."""

    pk = models.CompositePrimaryKey("log", "index")
    log = models.CharField(max_length=8, choices=LogName.choices)
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    def __str__(self) -> str:
        return f"{self.log} hash {self.index}"


class LogCheckpoint(models.Model):
    """A signed checkpoint (C2SP tlog-checkpoint note) of a log at one tree size; every one is kept."""

    id = models.BigAutoField(primary_key=True)
    log = models.CharField(max_length=8, choices=LogName.choices)
    size = models.BigIntegerField()
    root_hash = models.BinaryField(max_length=32)
    note = models.TextField()
    key_id = models.CharField(max_length=64)
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["log", "size"], name="logcheckpoint_unique_size")]

    def __str__(self) -> str:
        return f"{self.log} checkpoint at {self.size}"


class LogState(models.Model):
    """Where a log's integration stands: the tree size and root; its row is the integrator's lock."""

    log = models.CharField(primary_key=True, max_length=8, choices=LogName.choices)
    size = models.BigIntegerField(default=0)
    root_hash = models.BinaryField(max_length=32)
    integrated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.log} log at {self.size}"
