"""Tamper-evident log: appends through the Merkle log against plain INSERTs, inclusion proofs at 10,000,000
entries, and verification speed.

Run: ``DJANGO_DEBUG=true .venv/bin/python bench/ledger.py [--transactions N] [--big 10000000]`` (PostgreSQL
when ``DATABASE_URL`` points at it; a throw-away test database is created and dropped either way).

Appends (DESIGN.md §8: ≥ 0.5 × a plain INSERT of the same rows). Two shapes of write, each timed as a
whole, baseline and log one after the other in every round, the fastest of ``--repeat`` rounds kept:
- ``single``: one ledger row per transaction, as an audit event or a record access is written. Baseline:
  the row alone. Log: the row and its queued log entry, and the integrator's runs (one per 200
  transactions, as beat's 2-second runs would find them) that index the entries, store the tree's hashes
  and sign a checkpoint; the time includes integrating everything written.
- ``release``: 100 ledger rows per transaction, as ``POST /api/v1/releases`` writes them; the same again.

Inclusion proofs at ``--big`` entries (default 10,000,000), in a log of their own: the tree's stored hashes
are computed in Python from synthetic leaves (a stack of perfect subtrees, each leaf and node hashed once)
and streamed into ``phr_loghash`` with ``COPY`` (on SQLite, bulk inserts); the root is signed as a real
checkpoint. Then ``phr.tlog.proofs.inclusion_proof`` (what ``GET /logs/<name>/proof`` serves) is timed for
random indexes: p50/p95/p99 in ms, and over HTTP through Django's test client.

Verification: ``phr.tlog.verify.verify_log`` over the ledger written by the append rounds, in entries/s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from django.utils import timezone  # noqa: E402

from consent.models import LedgerEntry, Project, Release  # noqa: E402
from phr import services as party_services  # noqa: E402
from phr.models import LogCheckpoint, LogHash, LogName, LogState  # noqa: E402
from phr.models.parties import OrganisationKind  # noqa: E402
from phr.tlog import merkle  # noqa: E402
from phr.tlog.integrate import integrate  # noqa: E402
from phr.tlog.proofs import inclusion_proof  # noqa: E402
from phr.tlog.signing import sign_checkpoint  # noqa: E402
from phr.tlog.store import sequence_many  # noqa: E402
from phr.tlog.verify import verify_log  # noqa: E402

INTEGRATE_EVERY = 200


def make_release() -> Release:
    university = party_services.create_organisation(name="ベンチ大学", kind=OrganisationKind.ACADEMIC, actor=None)
    hospital = party_services.create_organisation(name="ベンチ病院", kind=OrganisationKind.HOSPITAL, actor=None)
    project = Project.objects.create(
        organisation=university,
        title_ja="ベンチ",
        title_en="bench",
        summary_ja="ベンチ",
        summary_en="bench",
        purpose_class="academic_research",
        duo_purpose={"type": "HMB"},
        data_categories=["diagnoses"],
        regions=["JP"],
        period_start=date(2026, 1, 1),
        period_end=date(2028, 12, 31),
        status="approved",
    )
    return Release.objects.create(
        organisation=hospital,
        project=project,
        idempotency_key="bench",
        request_hash="0" * 64,
        created_at=timezone.now(),
        accepted=0,
    )


def rows(release: Release, count: int) -> list[LedgerEntry]:
    at = timezone.now()
    return [
        LedgerEntry(
            release=release,
            person_id=uuid.uuid4(),
            project_id=release.project_id,
            organisation_id=release.organisation_id,
            recorded_at=at,
            consent_version=1,
        )
        for _ in range(count)
    ]


class PlainLedgerEntry(models.Model):
    """The baseline's table: the ledger's columns and indexes, without a log entry or its triggers."""

    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="+")
    person_id = models.UUIDField()
    project_id = models.UUIDField()
    organisation_id = models.UUIDField()
    recorded_at = models.DateTimeField()
    consent_version = models.PositiveIntegerField()

    class Meta:
        app_label = "consent"
        db_table = "bench_plain_ledgerentry"
        managed = False
        indexes = [models.Index(fields=["person_id"], name="bench_plain_person_idx")]

    def __str__(self) -> str:
        return f"plain ledger row {self.pk}"


def plain(release: Release, transactions: int, per: int) -> float:
    started = time.perf_counter()
    for _ in range(transactions):
        with transaction.atomic():
            PlainLedgerEntry._default_manager.bulk_create(
                PlainLedgerEntry(
                    release=release,
                    person_id=row.person_id,
                    project_id=row.project_id,
                    organisation_id=row.organisation_id,
                    recorded_at=row.recorded_at,
                    consent_version=row.consent_version,
                )
                for row in rows(release, per)
            )
    return time.perf_counter() - started


def logged(release: Release, transactions: int, per: int) -> float:
    started = time.perf_counter()
    for number in range(transactions):
        with transaction.atomic():
            entries = rows(release, per)
            for entry, log_entry_id in zip(
                entries, sequence_many(LogName.LEDGER, (e.log_body() for e in entries)), strict=True
            ):
                entry.log_entry_id = log_entry_id
            LedgerEntry.objects.bulk_create(entries)
        if (number + 1) % INTEGRATE_EVERY == 0:
            integrate(LogName.LEDGER)
    while integrate(LogName.LEDGER).added:
        pass
    return time.perf_counter() - started


def appends(release: Release, transactions: int, per: int, rounds: int) -> dict[str, float]:
    best_plain = best_logged = float("inf")
    for _ in range(rounds):
        best_plain = min(best_plain, plain(release, transactions, per))
        best_logged = min(best_logged, logged(release, transactions, per))
    count = transactions * per
    return {
        "per_s": round(count / best_logged),
        "baseline_per_s": round(count / best_plain),
        "ratio": round(best_plain / best_logged, 2),
    }


def stored_hashes(size: int, stack: list[tuple[int, bytes]]) -> Iterator[tuple[int, bytes]]:
    """Every stored hash of a tree of ``size`` synthetic leaves, in stored-hash order; ``stack`` is left
    holding the tree's perfect subtrees, for its root."""
    for n in range(size):
        value = merkle.record_hash(b"bench entry %d" % n)
        yield merkle.stored_hash_index(0, n), value
        height = 0
        while stack and stack[-1][0] == height:
            value = merkle.node_hash(stack.pop()[1], value)
            height += 1
            yield merkle.stored_hash_index(height, n >> height), value
        stack.append((height, value))


def root_of(stack: list[tuple[int, bytes]]) -> bytes:
    value = stack[-1][1]
    for _height, left in reversed(stack[:-1]):
        value = merkle.node_hash(left, value)
    return value


def build_big_tree(log: str, size: int) -> float:
    started = time.perf_counter()
    stack: list[tuple[int, bytes]] = []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE phr_loghash DISABLE TRIGGER USER")
            with cursor.copy("COPY phr_loghash (log, index, hash) FROM STDIN") as copy:
                for index, value in stored_hashes(size, stack):
                    copy.write_row((log, index, value))
            cursor.execute("ALTER TABLE phr_loghash ENABLE TRIGGER USER")
            cursor.execute("ANALYZE phr_loghash")
    else:
        batch: list[LogHash] = []
        for index, value in stored_hashes(size, stack):
            batch.append(LogHash(log=log, index=index, hash=value))
            if len(batch) == 50_000:
                LogHash.objects.bulk_create(batch)
                batch = []
        LogHash.objects.bulk_create(batch)
    root = root_of(stack)
    note, key_id = sign_checkpoint(log, size, root)
    LogCheckpoint.objects.create(log=log, size=size, root_hash=root, note=note, key_id=key_id)
    LogState.objects.update_or_create(log=log, defaults={"size": size, "root_hash": root})
    return time.perf_counter() - started


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    cut = statistics.quantiles(ordered, n=100)
    return {"p50_ms": round(cut[49] * 1000, 3), "p95_ms": round(cut[94] * 1000, 3), "p99_ms": round(cut[98] * 1000, 3)}


def proofs(log: str, size: int, count: int) -> tuple[dict[str, float], dict[str, float]]:
    rng = random.Random(12)
    indexes = [rng.randrange(size) for _ in range(count)]
    inclusion_proof(log, 0)
    direct = []
    for index in indexes:
        started = time.perf_counter()
        inclusion_proof(log, index)
        direct.append(time.perf_counter() - started)
    client = Client()
    over_http = []
    for index in indexes:
        started = time.perf_counter()
        response = client.get(f"/logs/{log}/proof", {"index": index})
        over_http.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content
    return percentiles(direct), percentiles(over_http)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=2000, help="single-row transactions per round")
    parser.add_argument("--releases", type=int, default=100, help="100-row transactions per round")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--big", type=int, default=10_000_000, help="entries of the tree the proofs are timed in")
    parser.add_argument("--proofs", type=int, default=2000)
    args = parser.parse_args()

    settings.DEBUG = False
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = (
        None if connection.vendor == "sqlite" else f"test_{settings.DATABASES['default']['NAME']}_bench_ledger"
    )
    settings.MAMORI_LOG_CHECKPOINT_DIR = Path(tempfile.mkdtemp(prefix="bench-ledger-checkpoints-"))
    config = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
    try:
        vendor = connection.vendor
        with connection.schema_editor() as editor:
            editor.create_model(PlainLedgerEntry)
        release = make_release()
        single = appends(release, args.transactions, 1, args.repeat)
        batch = appends(release, args.releases, 100, args.repeat)
        print(json.dumps({"single": single, "release": batch}), file=sys.stderr)

        started = time.perf_counter()
        report = verify_log(LogName.LEDGER)
        verify_seconds = time.perf_counter() - started
        if not report.intact:
            raise SystemExit(f"the ledger does not verify: {report.problems[0]}")

        build_seconds = build_big_tree(LogName.AUDIT, args.big)
        print(json.dumps({"big_tree_built_s": round(build_seconds, 1)}), file=sys.stderr)
        direct, over_http = proofs(LogName.AUDIT, args.big, args.proofs)
    finally:
        teardown_databases(config, verbosity=0)

    figures = {
        "bench": "ledger",
        "appends_per_s": single["per_s"],
        "baseline_per_s": single["baseline_per_s"],
        "ratio": single["ratio"],
        "release_appends_per_s": batch["per_s"],
        "release_baseline_per_s": batch["baseline_per_s"],
        "release_ratio": batch["ratio"],
        "proof_entries": args.big,
        "proof_p50_ms": direct["p50_ms"],
        "proof_p95_ms": direct["p95_ms"],
        "proof_p99_ms": direct["p99_ms"],
        "proof_http_p95_ms": over_http["p95_ms"],
        "big_tree_built_s": round(build_seconds, 1),
        "verify_entries": report.checked,
        "verify_entries_per_s": round(report.checked / verify_seconds),
        "database": vendor,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
