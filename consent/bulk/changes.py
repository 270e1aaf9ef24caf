"""The consent-changes feed: persons linked to an organisation whose decisions may have changed.

Rows come from database triggers (:class:`consent.models.ConsentChange`) in the writer's own
transaction. On PostgreSQL each row gets its ``position`` at commit from a counter whose row lock is
held until the commit completes, so positions are handed out in commit order: a reader that sees
position N will never later see a new row below N. Pages run in ``(position, id)`` order, so a cursor
never skips a change that commits late nor repeats one. SQLite's single writer makes ``id`` commit order
and its rows keep position 0.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.db.models import Q

from consent.models import ConsentChange
from phr.crypto.datakeys import decrypt
from phr.models import Identifier, Organisation
from phr.services import identifier_context

_SALT = "mamori.consent-changes.cursor"


@dataclass(frozen=True, order=True)
class Position:
    """Where a reader is in the feed: after the row at ``(position, id)``."""

    position: int
    id: int


START = Position(0, 0)


class InvalidCursor(ValueError):
    """The cursor was not issued by this server."""


class ForeignCursor(LookupError):
    """The cursor belongs to another organisation's feed."""


def encode_cursor(organisation: Organisation, position: Position) -> str:
    return signing.Signer(salt=_SALT).sign(f"{organisation.pk}.{position.position}.{position.id}")


def decode_cursor(organisation: Organisation, cursor: str) -> Position:
    try:
        owner, stamped, row = signing.Signer(salt=_SALT).unsign(cursor).split(".")
        position = Position(int(stamped), int(row))
    except (signing.BadSignature, ValueError) as error:
        raise InvalidCursor("The cursor is not one this server issued.") from error
    if owner != str(organisation.pk):
        raise ForeignCursor
    return position


@dataclass(frozen=True)
class Change:
    """A person (or, for a regime change, everyone) whose decisions may have changed."""

    kind: str
    at: datetime
    system: str | None
    value: str | None


@dataclass(frozen=True)
class Page:
    changes: list[Change]
    next: Position
    more: bool


def changes_for(organisation: Organisation, after: Position, limit: int) -> Page:
    """The next ``limit`` changes concerning persons linked to ``organisation``, oldest first (two queries)."""
    system = organisation.patient_number_system
    if not system:
        return Page([], after, False)
    query = ConsentChange.objects.filter(
        Q(position__gt=after.position) | Q(position=after.position, id__gt=after.id), position__isnull=False
    )
    linked = Identifier.objects.filter(system=system).values("person_id")
    query = query.filter(Q(person_id__isnull=True) | Q(person_id__in=linked))
    rows = list(query.order_by("position", "id").values_list("position", "id", "person_id", "kind", "at")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    values = _clear_values(system, {person_id for _, _, person_id, _, _ in rows if person_id is not None})
    changes = [
        Change(kind, at, system, values[person_id]) if person_id is not None else Change(kind, at, None, None)
        for _, _, person_id, kind, at in rows
        if person_id is None or person_id in values
    ]
    next_position = Position(rows[-1][0] or 0, rows[-1][1]) if rows else after
    return Page(changes, next_position, more)


def _clear_values(system: str, person_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The organisation's patient number of each person, decrypted (one query)."""
    identifiers = Identifier.objects.filter(system=system, person_id__in=person_ids)
    return {
        i.person_id: decrypt(bytes(i.value_encrypted), context=identifier_context(i.id)).decode() for i in identifiers
    }
