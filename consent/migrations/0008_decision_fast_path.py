"""Placeholder: single-decision fast path (filled in by the work that owns it)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("consent", "0007_bulk_checks")]

    operations: list[migrations.operations.base.Operation] = []
