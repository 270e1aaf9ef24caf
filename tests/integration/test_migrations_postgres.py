"""Migrations apply, reverse and re-apply on PostgreSQL, and no model change lacks a migration."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection

from tests.conftest import requires_postgres


@pytest.mark.django_db
def test_no_model_change_is_missing_a_migration() -> None:
    call_command("makemigrations", "--check", "--dry-run", stdout=io.StringIO())


@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_migrations_reverse_and_reapply_on_postgres() -> None:
    call_command("migrate", "phr", "zero", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('phr_identifier')")
        assert cursor.fetchone() == (None,)
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('phr_identifier')")
        assert cursor.fetchone() == ("phr_identifier",)
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conname IN (%s, %s)",
            ["identifier_unique_per_system", "proxy_valid_until_after_from"],
        )
        assert len(cursor.fetchall()) == 2
