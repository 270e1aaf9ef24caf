"""Releases: re-check every person, then record the permitted ones in the releases ledger.

One answer per ``(organisation, Idempotency-Key)``: a retry with the same body gets the stored answer,
another body under the same key is refused. Each ledger entry is queued into the ``ledger`` tamper-evident
log (phr.tlog) in the release's transaction, in the order of the request; no lock is held, the integrator
orders releases as they commit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from consent.bulk.decisions import resolve_and_decide
from consent.bulk.identifiers import IdentifierRef
from consent.disclosure import hospital_reasons_wire
from consent.duo.results import Language
from consent.engine import Verdict
from consent.models import DecisionChannel, LedgerEntry, Project, Release
from phr.ids import parse_uuid
from phr.models import Organisation
from phr.models.tlog import LogName
from phr.tlog.store import sequence_many


class IdempotencyConflict(Exception):
    """The idempotency key was used before with another request body."""


def canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def request_hash(project_id: str, refs: Sequence[IdentifierRef], categories: Sequence[str] | None) -> str:
    body = {"project": project_id, "identifiers": [r.to_wire() for r in refs], "categories": categories}
    return hashlib.sha256(canonical(body)).hexdigest()


def release_for_organisation(organisation: Organisation, release_id: object) -> Release | None:
    """Fetch-and-authorise: the release only if ``organisation`` made it."""
    key = parse_uuid(release_id)
    return None if key is None else Release.objects.filter(organisation=organisation, pk=key).first()


def _replay(organisation: Organisation, key: str, digest: str) -> Release | None:
    existing = Release.objects.filter(organisation=organisation, idempotency_key=key).first()
    if existing is not None and existing.request_hash != digest:
        raise IdempotencyConflict
    return existing


def record_release(
    *,
    organisation: Organisation,
    client_id: str,
    project: Project,
    refs: Sequence[IdentifierRef],
    categories: Sequence[str] | None,
    idempotency_key: str,
    language: Language = "ja",
) -> tuple[Release, bool]:
    """The release for this key, and whether it was created now (False: a replay of the stored answer)."""
    digest = request_hash(str(project.pk), refs, categories)
    existing = _replay(organisation, idempotency_key, digest)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return _create(organisation, client_id, project, refs, categories, idempotency_key, digest, language), True
    except IntegrityError:
        # A concurrent request with the same key won the race: answer as it did.
        existing = _replay(organisation, idempotency_key, digest)
        if existing is None:
            raise
        return existing, False


def _create(
    organisation: Organisation,
    client_id: str,
    project: Project,
    refs: Sequence[IdentifierRef],
    categories: Sequence[str] | None,
    key: str,
    digest: str,
    language: Language,
) -> Release:
    at = timezone.now()
    person_ids, decisions = resolve_and_decide(
        refs=refs,
        project=project,
        categories=categories,
        organisation=organisation,
        client_id=client_id,
        channel=DecisionChannel.RELEASE,
        at=at,
    )
    refused: list[dict[str, Any]] = []
    permitted = []
    for ref, person_id, decision in zip(refs, person_ids, decisions, strict=True):
        if decision.verdict == Verdict.PERMIT and person_id is not None:
            permitted.append((person_id, decision.consent_version or 0))
        else:
            # The hospital's view of why (consent.disclosure); the decision audit keeps the full reasons.
            refused.append({"identifier": ref.to_wire(), "reasons": hospital_reasons_wire(decision, language)})
    release = Release.objects.create(
        organisation=organisation,
        client_id=client_id,
        project=project,
        idempotency_key=key,
        request_hash=digest,
        created_at=at,
        accepted=len(permitted),
        refused=refused,
    )
    _append_to_ledger(release, permitted, at)
    return release


def _append_to_ledger(release: Release, permitted: Sequence[tuple[Any, int]], at: Any) -> None:
    """One ledger entry per permitted person, each with its log entry, in the caller's transaction."""
    entries = [
        LedgerEntry(
            release=release,
            person_id=person_id,
            project_id=release.project_id,
            organisation_id=release.organisation_id,
            recorded_at=at,
            consent_version=version,
        )
        for person_id, version in permitted
    ]
    logged = sequence_many(LogName.LEDGER, (entry.log_body() for entry in entries))
    for entry, log_entry_id in zip(entries, logged, strict=True):
        entry.log_entry_id = log_entry_id
    LedgerEntry.objects.bulk_create(entries, batch_size=2000)


def release_to_wire(release: Release) -> dict[str, Any]:
    return {"id": str(release.pk), "accepted": release.accepted, "refused": release.refused}
