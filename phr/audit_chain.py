"""Sealing the audit log into its hash chain, and verifying it.

Audit events are written everywhere, often inside longer transactions, so they are not chained as they are
written (that would serialise every write behind one lock). Instead ``seal_audit_events`` runs every minute:
under the chain's advisory lock it takes the committed rows not yet sealed, in id order, and gives each its
position, the previous row's hash, copies of the actor and person ids, and its own hash. Until then a row is
guarded by the append-only trigger alone; once sealed, any change, insertion or deletion breaks the chain.
"""

from __future__ import annotations

from django.db import transaction

from phr.hashchain import GENESIS_HASH, advisory_lock, row_hash_of, verify_chain
from phr.models import AuditEvent, ChainHead
from phr.models.audit import AUDIT_CHAIN

SEAL_BATCH = 5000


def seal_audit_events(*, batch: int = SEAL_BATCH) -> int:
    """Chain up to ``batch`` unsealed audit events after the current head; returns how many were sealed."""
    with transaction.atomic():
        advisory_lock(AUDIT_CHAIN)
        head = ChainHead.objects.select_for_update().filter(chain=AUDIT_CHAIN).first()
        if head is None:
            head = ChainHead(chain=AUDIT_CHAIN, length=0, head_hash=GENESIS_HASH)
        events = list(AuditEvent.objects.filter(position__isnull=True).order_by("id")[:batch])
        for event in events:
            event.actor_ref = str(event.actor_id or "")
            event.person_ref = str(event.person_id or "")
            event.position = head.length + 1
            event.prev_hash = head.head_hash
            event.row_hash = row_hash_of(event)
            head.length, head.head_hash = event.position, event.row_hash
        if events:
            fields = ["actor_ref", "person_ref", "position", "prev_hash", "row_hash"]
            AuditEvent.objects.bulk_update(events, fields, batch_size=1000)
            head.save()
    return len(events)


def _describe(row: AuditEvent) -> str:
    return f"audit event {row.pk} (position {row.position})"


def verify_audit_log() -> list[str]:
    """Every break in the sealed audit chain; rows not sealed yet are not judged. Empty when intact."""
    sealed = AuditEvent.objects.filter(position__isnull=False).order_by("position").iterator(chunk_size=5000)
    return verify_chain(AUDIT_CHAIN, sealed, ChainHead.objects.filter(chain=AUDIT_CHAIN).first(), _describe)


def unsealed_count() -> int:
    return AuditEvent.objects.filter(position__isnull=True).count()
