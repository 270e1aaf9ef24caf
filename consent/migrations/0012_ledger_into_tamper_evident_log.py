"""Ledger entries become entries of the ``ledger`` tamper-evident log: each is linked to its log entry, and the
old hash chain's fields (each entry's and the release's head hash) go.

On PostgreSQL a trigger refuses UPDATE and DELETE on ledger entries; the one change let through links an
entry not yet in the log to its log entry (0013 does that for the entries written before the log).
"""

import django.db.models.deletion
from django.db import migrations, models

TRIGGER = """
CREATE FUNCTION consent_ledgerentry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'ledger entries are append-only: a row cannot be deleted';
    END IF;
    IF (NEW.id, NEW.release_id, NEW.person_id, NEW.project_id, NEW.organisation_id, NEW.recorded_at,
        NEW.consent_version)
       IS DISTINCT FROM (OLD.id, OLD.release_id, OLD.person_id, OLD.project_id, OLD.organisation_id,
        OLD.recorded_at, OLD.consent_version)
       OR (OLD.log_entry_id IS NOT NULL AND NEW.log_entry_id IS DISTINCT FROM OLD.log_entry_id) THEN
        RAISE EXCEPTION 'ledger entries are append-only: a row cannot be changed';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ledgerentry_append_only BEFORE UPDATE OR DELETE ON consent_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION consent_ledgerentry_append_only();
"""

DROP_TRIGGER = """
DROP TRIGGER IF EXISTS ledgerentry_append_only ON consent_ledgerentry;
DROP FUNCTION IF EXISTS consent_ledgerentry_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0011_linked_snapshot_and_fhir_consent_reads"),
        ("phr", "0008_tamper_evident_logs"),
    ]

    operations = [
        migrations.RemoveField(model_name="release", name="head_hash"),
        migrations.RemoveField(model_name="ledgerentry", name="prev_hash"),
        migrations.RemoveField(model_name="ledgerentry", name="hash"),
        migrations.AddField(
            model_name="ledgerentry",
            name="log_entry",
            field=models.OneToOneField(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="phr.logentry",
            ),
        ),
        migrations.RunPython(create_trigger, drop_trigger),
    ]
