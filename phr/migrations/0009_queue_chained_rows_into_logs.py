"""Queue every audit event and record access written before the tamper-evident logs into the ``audit`` and
``access`` logs, in the order they were written (audit events by id, the order the old chain sealed them;
record accesses by time, then id), each linked to its entry.

Nothing is signed here: the entries are queued, and the integrator's first run (the beat task, or
``manage.py integrate_logs``) gives them their indexes in that order, stores the tree and signs the first
checkpoints. The old chains' hashes were dropped by 0008; what they covered is what the entries now hold.
"""

from django.db import migrations

CHUNK = 2000


def _queue(apps, model_label, log, order, body_of):
    from phr.tlog.canonical import encode

    Model = apps.get_model(model_label)
    LogEntry = apps.get_model("phr", "LogEntry")
    rows = Model.objects.filter(log_entry__isnull=True).order_by(*order)
    batch = []
    for row in rows.iterator(chunk_size=CHUNK):
        batch.append(row)
        if len(batch) == CHUNK:
            _link(LogEntry, Model, log, batch, body_of, encode)
            batch = []
    if batch:
        _link(LogEntry, Model, log, batch, body_of, encode)


def _link(LogEntry, Model, log, rows, body_of, encode):
    entries = LogEntry.objects.bulk_create([LogEntry(log=log, body=encode(body_of(row))) for row in rows])
    for row, entry in zip(rows, entries, strict=True):
        row.log_entry_id = entry.id
    Model.objects.bulk_update(rows, ["log_entry", *(["actor_ref", "person_ref"] if log == "audit" else [])])


def queue_existing_rows(apps, schema_editor):
    from phr.models.access_log import RecordAccess
    from phr.models.audit import AuditEvent

    def audit_body(event):
        # The old sealing copied these when it chained a row; rows it had not reached get them now.
        event.actor_ref = event.actor_ref or str(event.actor_id or "")
        event.person_ref = event.person_ref or str(event.person_id or "")
        return AuditEvent.log_body(event)

    _queue(apps, "phr.AuditEvent", "audit", ["id"], audit_body)
    _queue(apps, "phr.RecordAccess", "access", ["at", "id"], RecordAccess.log_body)


def unlink_rows(apps, schema_editor):
    """Backwards: the rows forget their entries (the entries, append-only, stay until 0008 is reversed)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE phr_auditevent DISABLE TRIGGER auditevent_append_only")
        schema_editor.execute("ALTER TABLE phr_recordaccess DISABLE TRIGGER recordaccess_append_only")
    apps.get_model("phr", "AuditEvent").objects.update(log_entry=None)
    apps.get_model("phr", "RecordAccess").objects.update(log_entry=None)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE phr_auditevent ENABLE TRIGGER auditevent_append_only")
        schema_editor.execute("ALTER TABLE phr_recordaccess ENABLE TRIGGER recordaccess_append_only")


class Migration(migrations.Migration):
    dependencies = [("phr", "0008_tamper_evident_logs")]

    operations = [migrations.RunPython(queue_existing_rows, unlink_rows)]
