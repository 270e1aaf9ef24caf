"""Break-glass grants, person notices, the record-access and audit hash chains (with their heads), and the
emergency-access role.

Existing record accesses are chained per person in the order they happened; existing audit events are left
for the sealing task. On PostgreSQL triggers refuse to delete a record access or an audit event, or to change
what their hashes cover (the foreign keys naming an actor, proxy, share link or person may only be set to
null, as deleting what they name does; an audit event's chain fields are set once, when it is sealed).
"""

import hashlib
import json

import django.db.models.deletion
import django.db.models.functions.text
import django.db.models.lookups
import django.utils.timezone
import uuid
from datetime import UTC

from django.conf import settings
from django.db import migrations, models

TRIGGER = """
CREATE FUNCTION phr_recordaccess_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'record accesses are append-only: a row cannot be deleted';
    END IF;
    IF (NEW.id, NEW.person_id, NEW.actor_label, NEW.route, NEW.page, NEW.subject, NEW.reason, NEW.at,
        NEW.break_glass_id, NEW.position, NEW.prev_hash, NEW.row_hash)
       IS DISTINCT FROM (OLD.id, OLD.person_id, OLD.actor_label, OLD.route, OLD.page, OLD.subject, OLD.reason,
        OLD.at, OLD.break_glass_id, OLD.position, OLD.prev_hash, OLD.row_hash)
       OR (NEW.actor_id IS NOT NULL AND NEW.actor_id IS DISTINCT FROM OLD.actor_id)
       OR (NEW.proxy_id IS NOT NULL AND NEW.proxy_id IS DISTINCT FROM OLD.proxy_id)
       OR (NEW.share_link_id IS NOT NULL AND NEW.share_link_id IS DISTINCT FROM OLD.share_link_id) THEN
        RAISE EXCEPTION 'record accesses are append-only: a row cannot be changed';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER recordaccess_append_only BEFORE UPDATE OR DELETE ON phr_recordaccess
    FOR EACH ROW EXECUTE FUNCTION phr_recordaccess_append_only();
"""

AUDIT_TRIGGER = """
CREATE FUNCTION phr_auditevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit events are append-only: a row cannot be deleted';
    END IF;
    IF (NEW.id, NEW.at, NEW.action, NEW.detail) IS DISTINCT FROM (OLD.id, OLD.at, OLD.action, OLD.detail)
       OR (NEW.actor_id IS NOT NULL AND NEW.actor_id IS DISTINCT FROM OLD.actor_id)
       OR (NEW.person_id IS NOT NULL AND NEW.person_id IS DISTINCT FROM OLD.person_id)
       OR (OLD.position IS NOT NULL
           AND (NEW.position, NEW.prev_hash, NEW.row_hash, NEW.actor_ref, NEW.person_ref)
           IS DISTINCT FROM (OLD.position, OLD.prev_hash, OLD.row_hash, OLD.actor_ref, OLD.person_ref)) THEN
        RAISE EXCEPTION 'audit events are append-only: a row cannot be changed';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER auditevent_append_only BEFORE UPDATE OR DELETE ON phr_auditevent
    FOR EACH ROW EXECUTE FUNCTION phr_auditevent_append_only();
"""

DROP_TRIGGER = """
DROP TRIGGER IF EXISTS recordaccess_append_only ON phr_recordaccess;
DROP FUNCTION IF EXISTS phr_recordaccess_append_only();
DROP TRIGGER IF EXISTS auditevent_append_only ON phr_auditevent;
DROP FUNCTION IF EXISTS phr_auditevent_append_only();
"""


GENESIS_HASH = "0" * 64


def link_hash(payload, prev_hash):
    """The hash chains' link as they were (phr.hashchain, replaced by the tamper-evident logs in 0008)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(canonical + prev_hash.encode()).hexdigest()


def chain_existing_accesses(apps, schema_editor):
    RecordAccess = apps.get_model("phr", "RecordAccess")
    ChainHead = apps.get_model("phr", "ChainHead")
    heads: dict[object, tuple[int, str]] = {}
    for access in RecordAccess.objects.order_by("person_id", "at", "id").iterator(chunk_size=2000):
        position, prev = heads.get(access.person_id, (0, GENESIS_HASH))
        payload = {
            "id": str(access.id),
            "person": str(access.person_id),
            "actor_label": access.actor_label,
            "route": access.route,
            "page": access.page,
            "subject": access.subject,
            "reason": access.reason,
            "break_glass": "",
            "at": access.at.astimezone(UTC).isoformat(),
            "position": position + 1,
        }
        row_hash = link_hash(payload, prev)
        RecordAccess.objects.filter(pk=access.pk).update(position=position + 1, prev_hash=prev, row_hash=row_hash)
        heads[access.person_id] = (position + 1, row_hash)
    ChainHead.objects.bulk_create(
        ChainHead(chain=f"record_access:{person_id}", length=length, head_hash=head)
        for person_id, (length, head) in heads.items()
    )


def create_append_only_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER)
        schema_editor.execute(AUDIT_TRIGGER)


def drop_append_only_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [("phr", "0004_share_export")]

    operations = [
        migrations.CreateModel(
            name='ChainHead',
            fields=[
                ('chain', models.CharField(max_length=100, primary_key=True, serialize=False)),
                ('length', models.BigIntegerField(default=0)),
                ('head_hash', models.CharField(max_length=64)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.CreateModel(
            name='PersonNotice',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('kind', models.CharField(choices=[('break_glass', 'Emergency access to your record'), ('export_ready', 'Your records download is ready')], max_length=32)),
                ('context', models.JSONField(blank=True, default=dict)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('read_at', models.DateTimeField(blank=True, null=True)),
                ('mailed_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'ordering': ['-created_at'],
            },
        ),
        migrations.AddField(
            model_name='recordaccess',
            name='position',
            field=models.BigIntegerField(default=0, editable=False),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='recordaccess',
            name='prev_hash',
            field=models.CharField(default='', editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='recordaccess',
            name='row_hash',
            field=models.CharField(default='', editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name='membership',
            name='role',
            field=models.CharField(choices=[('researcher', 'Researcher'), ('reviewer', 'Reviewer'), ('campaign_manager', 'Campaign manager'), ('org_admin', 'Organisation administrator'), ('operator_admin', 'Operator administrator'), ('break_glass', 'Emergency access')], max_length=32, verbose_name='role'),
        ),
        migrations.CreateModel(
            name='BreakGlassGrant',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('identifier_system', models.CharField(max_length=255)),
                ('identifier_masked', models.CharField(max_length=32)),
                ('reason_category', models.CharField(choices=[('emergency_care', 'Emergency care'), ('patient_unconscious', 'Patient unconscious or unable to answer'), ('safeguarding', "Risk to the person's life or safety"), ('legal_request', 'Legal request (court order or warrant)'), ('other', 'Other (explained below)')], max_length=32, verbose_name='reason category')),
                ('reason', models.CharField(max_length=500, verbose_name='reason')),
                ('opened_at', models.DateTimeField()),
                ('expires_at', models.DateTimeField()),
                ('reviewed_at', models.DateTimeField(blank=True, null=True)),
                ('review_note', models.CharField(blank=True, max_length=1000, verbose_name='review note')),
                ('person', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='break_glass_grants', to='phr.person')),
                ('reviewed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('staff', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='break_glass_grants', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-opened_at'],
            },
        ),
        migrations.AddField(
            model_name='recordaccess',
            name='break_glass',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='accesses', to='phr.breakglassgrant'),
        ),
        migrations.AddConstraint(
            model_name='recordaccess',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('route', 'break_glass'), _negated=True), ('break_glass__isnull', False), _connector='OR'), name='recordaccess_break_glass_names_grant'),
        ),
        migrations.RunPython(chain_existing_accesses, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='recordaccess',
            constraint=models.UniqueConstraint(fields=('person', 'position'), name='recordaccess_chain_position'),
        ),
        migrations.AddField(
            model_name='personnotice',
            name='person',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='person_notices', to='phr.person'),
        ),
        migrations.AddIndex(
            model_name='breakglassgrant',
            index=models.Index(fields=['staff', 'person', '-expires_at'], name='breakglass_staff_person_idx'),
        ),
        migrations.AddConstraint(
            model_name='breakglassgrant',
            constraint=models.CheckConstraint(condition=models.Q(('expires_at__gt', models.F('opened_at'))), name='breakglass_expires_after_open'),
        ),
        migrations.AddConstraint(
            model_name='breakglassgrant',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.GreaterThanOrEqual(django.db.models.functions.text.Length('reason'), 20), name='breakglass_reason_long_enough'),
        ),
        migrations.AddConstraint(
            model_name='breakglassgrant',
            constraint=models.CheckConstraint(condition=models.Q(('reviewed_at__isnull', True), ('reviewed_by__isnull', False), _connector='OR'), name='breakglass_review_names_reviewer'),
        ),
        migrations.AddIndex(
            model_name='personnotice',
            index=models.Index(fields=['person', '-created_at'], name='personnotice_person_idx'),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='actor_ref',
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='person_ref',
            field=models.CharField(blank=True, editable=False, max_length=36),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='position',
            field=models.BigIntegerField(blank=True, editable=False, null=True, unique=True),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='prev_hash',
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='row_hash',
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(condition=models.Q(('position__isnull', True)), fields=['id'], name='audit_unsealed_idx'),
        ),
        migrations.RunPython(create_append_only_trigger, drop_append_only_trigger),
    ]
