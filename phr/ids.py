"""Ids from the outside world (URL parts, API fields): read once, the same way everywhere.

Every fetch-and-authorise lookup takes an id as the caller wrote it; a malformed one must answer exactly
like an unknown one (None, or 404), never a 500.
"""

from __future__ import annotations

import uuid

from django.http import Http404


def parse_uuid(value: object) -> uuid.UUID | None:
    """``value`` as a UUID, or None when it is not one."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def uuid_or_404(value: object) -> uuid.UUID:
    """``value`` as a UUID; Http404 when it is not one (a malformed id is as unknown as a missing one)."""
    parsed = parse_uuid(value)
    if parsed is None:
        raise Http404
    return parsed
