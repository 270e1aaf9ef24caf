"""Releases: re-check every person, then record the permitted ones in the hash-chained ledger.

One answer per ``(organisation, Idempotency-Key)``: a retry with the same body gets the stored answer,
another body under the same key is refused. Entries are chained in insertion order; on PostgreSQL a
transaction-level advisory lock serialises appends, so two releases never chain to the same predecessor.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from consent.bulk.decisions import resolve_and_decide
from consent.bulk.identifiers import IdentifierRef
from consent.duo.results import Language
from consent.engine import Verdict
from consent.models import DecisionChannel, LedgerEntry, Project, Release
from consent.models.ledger import GENESIS_HASH, canonical, entry_hash
from phr.ids import parse_uuid
from phr.models import Organisation

LEDGER_LOCK = 0x6D616D6F7269  # "mamori": the advisory lock key of ledger appends


class IdempotencyConflict(Exception):
    """The idempotency key was used before with another request body."""


def request_hash(project_id: str, refs: Sequence[IdentifierRef], categories: Sequence[str] | None) -> str:
    body = {"project": project_id, "identifiers": [r.to_wire() for r in refs], "categories": categories}
    return hashlib.sha256(canonical(body)).hexdigest()


def release_for_organisation(organisation: Organisation, release_id: object) -> Release | None:
    """Fetch-and-authorise: the release only if ``organisation`` made it."""
    key = parse_uuid(release_id)
    return None if key is None else Release.objects.filter(organisation=organisation, pk=key).first()


def _ledger_head() -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LEDGER_LOCK])
    last = LedgerEntry.objects.order_by("-id").values_list("hash", flat=True).first()
    return last or GENESIS_HASH


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
            reasons = [{"code": r.code, "message": r.message(language)} for r in decision.reasons]
            refused.append({"identifier": ref.to_wire(), "reasons": reasons})
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
    prev = _ledger_head()
    entries = []
    for person_id, version in permitted:
        entry = LedgerEntry(
            release=release,
            person_id=person_id,
            project_id=project.pk,
            organisation_id=organisation.pk,
            recorded_at=at,
            consent_version=version,
            prev_hash=prev,
        )
        entry.hash = entry_hash(entry.payload(), prev)
        prev = entry.hash
        entries.append(entry)
    LedgerEntry.objects.bulk_create(entries, batch_size=2000)
    if entries:
        release.head_hash = prev
        release.save(update_fields=["head_hash"])
    return release


def release_to_wire(release: Release) -> dict[str, Any]:
    return {"id": str(release.pk), "accepted": release.accepted, "refused": release.refused}


def verify_ledger() -> list[str]:
    """Every break of the chain: a changed row (hash mismatch), a deleted or reordered one (link mismatch),
    or a release whose entries do not add up to what it recorded. Empty when the ledger is intact."""
    problems: list[str] = []
    prev = GENESIS_HASH
    counts: dict[Any, tuple[int, str]] = {}
    for entry in LedgerEntry.objects.order_by("id").iterator(chunk_size=5000):
        if entry.prev_hash != prev:
            problems.append(f"entry {entry.id}: does not follow the previous entry (a row was deleted or changed)")
        if entry.computed_hash() != entry.hash:
            problems.append(f"entry {entry.id}: its content does not match its hash (the row was changed)")
        count, _ = counts.get(entry.release_id, (0, ""))
        counts[entry.release_id] = (count + 1, entry.hash)
        prev = entry.hash
    for release_id, accepted, head in Release.objects.values_list("id", "accepted", "head_hash").iterator():
        count, last = counts.get(release_id, (0, ""))
        if count != accepted or last != head:
            problems.append(f"release {release_id}: {count} entries found, {accepted} recorded")
    return problems
