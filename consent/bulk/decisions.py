"""Decisions for identifiers, recorded in the decision audit (one row per known person, inserted in bulk)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime

from django.db import connection
from django.utils import timezone

from consent.bulk.evaluate import ChunkEvaluator, copy_text
from consent.bulk.identifiers import IdentifierRef
from consent.engine import Decision
from consent.linkage import Caller
from consent.models import Project
from consent.models.audit import DecisionAudit
from consent.selectors import project_request
from phr.models import Organisation

AUDIT_BATCH = 2000
COPY_FROM = 500
_AUDIT_COPY = (
    "COPY consent_decisionaudit (at, organisation_id, client_id, person_id, project_id, channel, decision, "
    "reasons, consent_version) FROM STDIN"
)


def record_decisions(
    *,
    organisation: Organisation,
    client_id: str,
    project: Project,
    channel: str,
    person_ids: Sequence[uuid.UUID | None],
    decisions: Sequence[Decision],
    versions: Sequence[int | None] | None = None,
) -> None:
    """One audit row per known person; unknown identifiers are about nobody and leave no row.

    ``versions`` overrides each decision's consent version (persons in the same state share one decision
    object). On PostgreSQL many rows go in by COPY (a batch of 10,000, a release); otherwise bulk_create.
    Bulk checks keep their own narrower rows (:mod:`consent.bulk.audit`).
    """
    if versions is None:
        versions = [decision.consent_version for decision in decisions]
    if connection.vendor == "postgresql" and len(person_ids) >= COPY_FROM:
        # Every row of a call shares its instant, organisation, client, project and channel; each distinct
        # decision its verdict and reasons: the COPY text is assembled from those pieces.
        shared: dict[int, tuple[Decision, str, str]] = {}
        head = "\t".join(copy_text(str(v)) for v in (organisation.pk, client_id))
        tail = "\t".join(copy_text(str(v)) for v in (project.pk, channel))
        lines = []
        for person_id, decision, version in zip(person_ids, decisions, versions, strict=True):
            if person_id is None:
                continue
            cached = shared.get(id(decision))
            if cached is None:
                reasons = copy_text(json.dumps([r.code for r in decision.reasons]))
                part = f"{decision.verdict.value}\t{reasons}"
                cached = shared[id(decision)] = (decision, f"{copy_text(decision.at.isoformat())}\t{head}", part)
            _, at_head, part = cached
            version_text = "\\N" if version is None else str(version)
            lines.append(f"{at_head}\t{person_id}\t{tail}\t{part}\t{version_text}\n")
        with connection.cursor() as cursor, cursor.copy(_AUDIT_COPY) as copy:
            copy.write("".join(lines))
        return
    rows = [
        (person_id, decision, version)
        for person_id, decision, version in zip(person_ids, decisions, versions, strict=True)
        if person_id is not None
    ]
    DecisionAudit.objects.bulk_create(
        [
            DecisionAudit(
                at=decision.at,
                organisation=organisation,
                client_id=client_id,
                person_id=person_id,
                project=project,
                channel=channel,
                decision=decision.verdict.value,
                reasons=[reason.code for reason in decision.reasons],
                consent_version=version,
            )
            for person_id, decision, version in rows
        ],
        batch_size=AUDIT_BATCH,
    )


def decide_identifiers(
    *,
    refs: Sequence[IdentifierRef],
    project: Project,
    categories: Sequence[str] | None,
    organisation: Organisation,
    client_id: str,
    channel: str,
    at: datetime | None = None,
) -> list[Decision]:
    """Each identifier's decision for ``project``, in input order, audited; a fixed number of queries a chunk."""
    return resolve_and_decide(
        refs=refs,
        project=project,
        categories=categories,
        organisation=organisation,
        client_id=client_id,
        channel=channel,
        at=at,
    )[1]


def resolve_and_decide(
    *,
    refs: Sequence[IdentifierRef],
    project: Project,
    categories: Sequence[str] | None,
    organisation: Organisation,
    client_id: str,
    channel: str,
    at: datetime | None = None,
) -> tuple[list[uuid.UUID | None], list[Decision]]:
    """The person each identifier names (None: nobody, or a person not linked to ``organisation``) and their
    audited decision, in input order.

    Persons in the same state (directives and notices) are decided once; each still gets a decision of
    its own, naming the person and their consent version.
    """
    at = at or timezone.now()
    evaluator = ChunkEvaluator(project_request(project, categories), at, Caller.of(organisation))
    person_ids: list[uuid.UUID | None] = []
    shared: list[Decision] = []
    versions: list[int | None] = []
    decisions: list[Decision] = []
    for person_id, decision, version in evaluator.decide([(ref.system, ref.value) for ref in refs]):
        assert decision is not None
        person_ids.append(person_id)
        shared.append(decision)
        versions.append(version)
        decisions.append(decision if person_id is None else _own(decision, person_id, version))
    record_decisions(
        organisation=organisation,
        client_id=client_id,
        project=project,
        channel=channel,
        person_ids=person_ids,
        decisions=shared,
        versions=versions,
    )
    return person_ids, decisions


def _own(shared: Decision, person_id: uuid.UUID, version: int | None) -> Decision:
    """A person's copy of a decision shared by everyone in their state (``dataclasses.replace`` costs 10 ×)."""
    return Decision(str(person_id), shared.verdict, shared.categories, version, shared.at, shared.failure)
