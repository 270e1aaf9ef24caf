"""The audit of a bulk check: one run (who asked, for which project, when, the distinct answers) and one narrow
row per line naming a person (:class:`consent.models.BulkDecision`), written in the checkpoint's transaction.

Answers are numbered by content (decision and reason codes), in the order first met, and the numbering is
stored on the run before any row uses a number; a resumed run loads it, so its rows number answers as the
earlier run's did.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from consent.bulk.evaluate import Outcome
from consent.engine import Decision
from consent.models import BulkCheck, BulkDecision, BulkDecisionRun

VerdictKey = tuple[str, tuple[str, ...]]
ROW_BATCH = 2000


def verdict_key(decision: Decision) -> VerdictKey:
    return decision.verdict.value, tuple(reason.code for reason in decision.reasons)


class AuditRun:
    """A bulk check's audit run and the class number of each answer it has given."""

    def __init__(self, run: BulkDecisionRun) -> None:
        self.run_id: uuid.UUID = run.pk
        self.classes: dict[VerdictKey, int] = {
            (str(decision), tuple(reasons)): number for number, (decision, reasons) in enumerate(run.verdicts)
        }
        self.saved = len(self.classes)
        # Most lines share a handful of Decision objects: their numbers by object, without re-reading reasons.
        self._by_object: dict[int, tuple[Decision, int]] = {}

    def class_of(self, decision: Decision) -> int:
        known = self._by_object.get(id(decision))
        if known is not None and known[0] is decision:
            return known[1]
        key = verdict_key(decision)
        number = self.classes.setdefault(key, len(self.classes))
        self._by_object[id(decision)] = (decision, number)
        return number

    def save_classes(self) -> None:
        """Store the numbering on the run; call it in the transaction that writes rows using new numbers."""
        if len(self.classes) == self.saved:
            return
        ordered = sorted(self.classes.items(), key=lambda item: item[1])
        BulkDecisionRun.objects.filter(pk=self.run_id).update(
            verdicts=[[decision, list(reasons)] for (decision, reasons), _ in ordered]
        )
        self.saved = len(ordered)


def open_run(job: BulkCheck) -> AuditRun:
    """The job's audit run, created on its first run (its id is the job's, its instant the evaluation's)."""
    assert job.evaluated_at is not None
    run, _ = BulkDecisionRun.objects.get_or_create(
        id=job.pk,
        defaults={
            "at": job.evaluated_at,
            "organisation_id": job.organisation_id,
            "client_id": job.client_id,
            "project_id": job.project_id,
        },
    )
    return AuditRun(run)


def record_rows(audit: AuditRun, *, first_line: int, outcomes: Sequence[Outcome]) -> None:
    """The rows of lines ``first_line``, ``first_line + 1``, … that name a person (the ORM path; PostgreSQL
    inserts a staged block's rows itself, :mod:`consent.bulk.staging`)."""
    rows = [
        BulkDecision(
            person_id=person_id,
            run_id=audit.run_id,
            line=first_line + offset,
            verdict=audit.class_of(decision),
            consent_version=version,
        )
        for offset, (person_id, decision, version) in enumerate(outcomes)
        if person_id is not None and decision is not None
    ]
    audit.save_classes()
    BulkDecision.objects.bulk_create(rows, batch_size=ROW_BATCH)
