"""The tamper-evident logs (entries, stored hashes, checkpoints, integration state), each logged row's link to
its entry, and the end of the old hash chains (their heads, positions and hashes, and the 0005 triggers).

On PostgreSQL, triggers refuse UPDATE and DELETE on the log tables and on audit events and record accesses.
The only changes let through are the ones the system itself makes: the integrator gives a queued entry its
index once (null to a value), a row not yet in its log is linked to its entry (0010 does that for the rows
written before the logs, copying an audit event's actor and person ids first), the foreign keys naming
an actor, proxy, share link or person may be set to null (as deleting what they name does), and the
integration state row moves forward. Existing rows are queued into the logs by 0010.
"""

import importlib

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

LOG_CHOICES = [("ledger", "ledger"), ("access", "access"), ("audit", "audit")]

TRIGGERS = """
CREATE FUNCTION tlog_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only: ' || TG_OP || ' refused';
END $$;
CREATE TRIGGER loghash_append_only BEFORE UPDATE OR DELETE ON phr_loghash
    FOR EACH ROW EXECUTE FUNCTION tlog_refuse_change();
CREATE TRIGGER logcheckpoint_append_only BEFORE UPDATE OR DELETE ON phr_logcheckpoint
    FOR EACH ROW EXECUTE FUNCTION tlog_refuse_change();
CREATE TRIGGER logentry_no_delete BEFORE DELETE ON phr_logentry
    FOR EACH ROW EXECUTE FUNCTION tlog_refuse_change();

CREATE FUNCTION tlog_logentry_indexed_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.index IS NOT NULL OR NEW.index IS NULL
       OR (NEW.id, NEW.log, NEW.body, NEW.sequenced_at) IS DISTINCT FROM (OLD.id, OLD.log, OLD.body, OLD.sequenced_at) THEN
        RAISE EXCEPTION 'log entries are append-only: only the integrator sets an index, once';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER logentry_indexed_once BEFORE UPDATE ON phr_logentry
    FOR EACH ROW EXECUTE FUNCTION tlog_logentry_indexed_once();

CREATE FUNCTION tlog_logstate_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.size < OLD.size OR NEW.log IS DISTINCT FROM OLD.log THEN
        RAISE EXCEPTION 'a log''s integration state only moves forward';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER logstate_forward BEFORE UPDATE OR DELETE ON phr_logstate
    FOR EACH ROW EXECUTE FUNCTION tlog_logstate_forward();

CREATE FUNCTION phr_recordaccess_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'record accesses are append-only: a row cannot be deleted';
    END IF;
    IF (NEW.id, NEW.person_id, NEW.actor_label, NEW.route, NEW.page, NEW.subject, NEW.reason, NEW.at,
        NEW.break_glass_id)
       IS DISTINCT FROM (OLD.id, OLD.person_id, OLD.actor_label, OLD.route, OLD.page, OLD.subject, OLD.reason,
        OLD.at, OLD.break_glass_id)
       OR (OLD.log_entry_id IS NOT NULL AND NEW.log_entry_id IS DISTINCT FROM OLD.log_entry_id)
       OR (NEW.actor_id IS NOT NULL AND NEW.actor_id IS DISTINCT FROM OLD.actor_id)
       OR (NEW.proxy_id IS NOT NULL AND NEW.proxy_id IS DISTINCT FROM OLD.proxy_id)
       OR (NEW.share_link_id IS NOT NULL AND NEW.share_link_id IS DISTINCT FROM OLD.share_link_id) THEN
        RAISE EXCEPTION 'record accesses are append-only: a row cannot be changed';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER recordaccess_append_only BEFORE UPDATE OR DELETE ON phr_recordaccess
    FOR EACH ROW EXECUTE FUNCTION phr_recordaccess_append_only();

CREATE FUNCTION phr_auditevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit events are append-only: a row cannot be deleted';
    END IF;
    IF (NEW.id, NEW.at, NEW.action, NEW.detail) IS DISTINCT FROM (OLD.id, OLD.at, OLD.action, OLD.detail)
       OR (OLD.log_entry_id IS NOT NULL
           AND (NEW.log_entry_id, NEW.actor_ref, NEW.person_ref)
           IS DISTINCT FROM (OLD.log_entry_id, OLD.actor_ref, OLD.person_ref))
       OR (NEW.actor_id IS NOT NULL AND NEW.actor_id IS DISTINCT FROM OLD.actor_id)
       OR (NEW.person_id IS NOT NULL AND NEW.person_id IS DISTINCT FROM OLD.person_id) THEN
        RAISE EXCEPTION 'audit events are append-only: a row cannot be changed';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER auditevent_append_only BEFORE UPDATE OR DELETE ON phr_auditevent
    FOR EACH ROW EXECUTE FUNCTION phr_auditevent_append_only();
"""

DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS loghash_append_only ON phr_loghash;
DROP TRIGGER IF EXISTS logcheckpoint_append_only ON phr_logcheckpoint;
DROP TRIGGER IF EXISTS logentry_no_delete ON phr_logentry;
DROP TRIGGER IF EXISTS logentry_indexed_once ON phr_logentry;
DROP TRIGGER IF EXISTS logstate_forward ON phr_logstate;
DROP FUNCTION IF EXISTS tlog_refuse_change();
DROP FUNCTION IF EXISTS tlog_logentry_indexed_once();
DROP FUNCTION IF EXISTS tlog_logstate_forward();
"""

_OLD = importlib.import_module("phr.migrations.0005_break_glass")


def drop_old_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_OLD.DROP_TRIGGER)


def restore_old_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_OLD.DROP_TRIGGER)
        schema_editor.execute(_OLD.TRIGGER)
        schema_editor.execute(_OLD.AUDIT_TRIGGER)


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGERS)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGERS)
        schema_editor.execute(_OLD.DROP_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [("phr", "0007_endpoint_credentials_sealed_not_paths")]

    operations = [
        migrations.RunPython(drop_old_triggers, restore_old_triggers),
        migrations.CreateModel(
            name="LogEntry",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("log", models.CharField(choices=LOG_CHOICES, max_length=8)),
                ("body", models.BinaryField()),
                ("sequenced_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("index", models.BigIntegerField(blank=True, null=True)),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("log", "index"), name="logentry_unique_index")],
                "indexes": [
                    models.Index(
                        condition=models.Q(("index__isnull", True)), fields=["log", "id"], name="logentry_queued_idx"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="LogHash",
            fields=[
                ("pk", models.CompositePrimaryKey("log", "index", blank=True, editable=False, primary_key=True, serialize=False)),
                ("log", models.CharField(choices=LOG_CHOICES, max_length=8)),
                ("index", models.BigIntegerField()),
                ("hash", models.BinaryField(max_length=32)),
            ],
        ),
        migrations.CreateModel(
            name="LogCheckpoint",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("log", models.CharField(choices=LOG_CHOICES, max_length=8)),
                ("size", models.BigIntegerField()),
                ("root_hash", models.BinaryField(max_length=32)),
                ("note", models.TextField()),
                ("key_id", models.CharField(max_length=64)),
                ("signed_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("log", "size"), name="logcheckpoint_unique_size")],
            },
        ),
        migrations.CreateModel(
            name="LogState",
            fields=[
                ("log", models.CharField(choices=LOG_CHOICES, max_length=8, primary_key=True, serialize=False)),
                ("size", models.BigIntegerField(default=0)),
                ("root_hash", models.BinaryField(max_length=32)),
                ("integrated_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.RemoveIndex(model_name="auditevent", name="audit_unsealed_idx"),
        migrations.RemoveField(model_name="auditevent", name="position"),
        migrations.RemoveField(model_name="auditevent", name="prev_hash"),
        migrations.RemoveField(model_name="auditevent", name="row_hash"),
        migrations.AlterField(
            model_name="auditevent",
            name="at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="log_entry",
            field=models.OneToOneField(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="phr.logentry",
            ),
        ),
        migrations.RemoveConstraint(model_name="recordaccess", name="recordaccess_chain_position"),
        migrations.RemoveField(model_name="recordaccess", name="position"),
        migrations.RemoveField(model_name="recordaccess", name="prev_hash"),
        migrations.RemoveField(model_name="recordaccess", name="row_hash"),
        migrations.AddField(
            model_name="recordaccess",
            name="log_entry",
            field=models.OneToOneField(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="phr.logentry",
            ),
        ),
        migrations.DeleteModel(name="ChainHead"),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
