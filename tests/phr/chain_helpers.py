"""Shared by the hash-chain tests: tampering as someone with database access would, and the verify commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO

from django.core.management import CommandError, call_command
from django.db import connection, transaction


@contextmanager
def tampering() -> Iterator[None]:
    """What someone with direct database access could do: on PostgreSQL, first switch the guard triggers off."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        yield
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = origin")


def run_verify(command: str) -> tuple[bool, str]:
    """Run a verify command: (passed, what it printed)."""
    out, err = StringIO(), StringIO()
    try:
        call_command(command, stdout=out, stderr=err)
    except CommandError:
        return False, err.getvalue()
    return True, out.getvalue()
