"""A connection's patient id and tokens, sealed with the person's data key; each under its own context."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from phr.crypto.datakeys import decrypt, encrypt_for_person
from phr.models import Connection

PATIENT_ID = "patient_id"
ACCESS_TOKEN = "access_token"  # noqa: S105  (a field name, not a secret)
REFRESH_TOKEN = "refresh_token"  # noqa: S105  (a field name, not a secret)
# A token this close to its expiry is renewed before use rather than sent and refused.
EXPIRY_MARGIN = timedelta(seconds=60)


def _context(connection: Connection, name: str) -> str:
    return f"phr.connection.{name}:{connection.id}"


def seal(connection: Connection, name: str, value: str) -> bytes:
    return encrypt_for_person(connection.person, value.encode("utf-8"), context=_context(connection, name))


def unseal(connection: Connection, name: str) -> str | None:
    token = getattr(connection, f"{name}_encrypted")
    if not token:
        return None
    return decrypt(bytes(token), context=_context(connection, name)).decode("utf-8")


def patient_id(connection: Connection) -> str | None:
    return unseal(connection, PATIENT_ID)


def set_patient_id(connection: Connection, value: str) -> None:
    connection.patient_id_encrypted = seal(connection, PATIENT_ID, value)


def set_tokens(
    connection: Connection, *, access_token: str, refresh_token: str | None, expires_in: object, scope: str | None
) -> list[str]:
    """Store a token response; a new refresh token replaces the old one (rotation). Returns the changed fields."""
    connection.access_token_encrypted = seal(connection, ACCESS_TOKEN, access_token)
    changed = ["access_token_encrypted", "token_expires_at"]
    if refresh_token:
        connection.refresh_token_encrypted = seal(connection, REFRESH_TOKEN, refresh_token)
        changed.append("refresh_token_encrypted")
    try:
        seconds = int(str(expires_in))
    except ValueError:
        seconds = 300
    connection.token_expires_at = timezone.now() + timedelta(seconds=max(seconds, 0))
    if scope is not None:
        connection.granted_scopes = scope
        changed.append("granted_scopes")
    return changed


def clear_tokens(connection: Connection) -> list[str]:
    connection.access_token_encrypted = None
    connection.refresh_token_encrypted = None
    connection.token_expires_at = None
    return ["access_token_encrypted", "refresh_token_encrypted", "token_expires_at"]


def access_token_is_fresh(connection: Connection) -> bool:
    expires = connection.token_expires_at
    return bool(connection.access_token_encrypted) and expires is not None and expires - EXPIRY_MARGIN > timezone.now()
