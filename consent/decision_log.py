"""One decision request, recorded in the decision audit with a single statement (the single-decision path);
and a hospital's read of a person's FHIR Consent, recorded beside the checks (the person sees both).

Batches and bulk checks write many rows at once (:mod:`consent.bulk.decisions`); a single check writes one,
and on a busy API that row's commit would otherwise wait for the WAL flush on every request. On PostgreSQL
the row goes in through the function ``consent_record_decision`` (migration 0008, whose plan the session
keeps), which sets ``synchronous_commit = off`` for that one transaction (``set_config(..., true)``): the
answer does not wait for the flush, which PostgreSQL makes within ``3 × wal_writer_delay`` (600 ms by
default). The row is never torn or reordered; what this gives up is that a crash of the database server within
that fraction of a second can lose the last rows, which the persons' transparency pages would then not show.
The answer itself changes nothing in the database.

(Measured and dropped: a writer thread per worker that batched the rows with durable commits. The thread's
own work cost the request more than the round trip it saved; see docs/BENCHMARKS.md.)
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from django.db import connection

from consent.engine import Decision
from consent.models.audit import DecisionAudit, DecisionChannel

_RECORD = (
    "SELECT consent_record_decision(%s::timestamptz, %s::uuid, %s::varchar, %s::uuid, %s::uuid, %s::varchar, "
    "%s::varchar, %s::jsonb, %s::integer)"
)


def record_decision(
    *,
    organisation_id: uuid.UUID,
    client_id: str,
    person_id: uuid.UUID,
    project_id: uuid.UUID,
    channel: str,
    decision: Decision,
    at: datetime | None = None,
) -> None:
    """Record that ``organisation`` (through ``client_id``) asked about ``person_id`` and got ``decision``."""
    reasons = [reason.code for reason in decision.reasons]
    if connection.vendor != "postgresql":
        DecisionAudit.objects.create(
            at=at or decision.at,
            organisation_id=organisation_id,
            client_id=client_id,
            person_id=person_id,
            project_id=project_id,
            channel=channel,
            decision=decision.verdict.value,
            reasons=reasons,
            consent_version=decision.consent_version,
        )
        return
    params: list[Any] = [
        at or decision.at,
        organisation_id,
        client_id,
        person_id,
        project_id,
        channel,
        decision.verdict.value,
        json.dumps(reasons),
        decision.consent_version,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_RECORD, params)


def record_consent_read(
    *, organisation_id: uuid.UUID, client_id: str, person_id: uuid.UUID, consent_version: int, at: datetime
) -> None:
    """Record that ``organisation`` (through ``client_id``) read the person's FHIR Consent at ``at``.

    A row of the decision audit without a project, decision or reasons: the person's list of checks shows
    it as a FHIR Consent read. Committed with the request (a read is rarer than a check and worth the flush).
    """
    DecisionAudit.objects.create(
        at=at,
        organisation_id=organisation_id,
        client_id=client_id,
        person_id=person_id,
        project=None,
        channel=DecisionChannel.FHIR_CONSENT,
        decision="",
        reasons=[],
        consent_version=consent_version,
    )
