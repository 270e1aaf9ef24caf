"""Queue every ledger entry written before the tamper-evident log into the ``ledger`` log, in id order (the
old chain's order), each linked to its log entry. Nothing is signed here: the integrator's first run gives
the entries their indexes in that order and signs the first checkpoint.
"""

from django.db import migrations

CHUNK = 2000


def queue_existing_entries(apps, schema_editor):
    from consent.models.ledger import LedgerEntry as Current
    from phr.tlog.canonical import encode

    LedgerEntry = apps.get_model("consent", "LedgerEntry")
    LogEntry = apps.get_model("phr", "LogEntry")
    rows = list(LedgerEntry.objects.filter(log_entry__isnull=True).order_by("id")[:CHUNK])
    while rows:
        entries = LogEntry.objects.bulk_create([LogEntry(log="ledger", body=encode(Current.log_body(r))) for r in rows])
        for row, entry in zip(rows, entries, strict=True):
            row.log_entry_id = entry.id
        LedgerEntry.objects.bulk_update(rows, ["log_entry"])
        rows = list(LedgerEntry.objects.filter(log_entry__isnull=True, id__gt=rows[-1].id).order_by("id")[:CHUNK])


def unlink_entries(apps, schema_editor):
    """Backwards: the entries forget their log entries (which stay until phr 0008 is reversed)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE consent_ledgerentry DISABLE TRIGGER ledgerentry_append_only")
    apps.get_model("consent", "LedgerEntry").objects.update(log_entry=None)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE consent_ledgerentry ENABLE TRIGGER ledgerentry_append_only")


class Migration(migrations.Migration):
    dependencies = [("consent", "0012_ledger_into_tamper_evident_log")]

    operations = [migrations.RunPython(queue_existing_entries, unlink_entries)]
