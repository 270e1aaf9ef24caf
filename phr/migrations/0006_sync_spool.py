"""Deletions at the hospital and upload warnings: FhirResource.deleted_at_source, SyncRun.deleted_count and
SyncRun.warnings, and Connection.last_full_sync_started_at (when the last full pull began)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("phr", "0005_break_glass")]

    operations = [
        migrations.AddField(
            model_name="connection",
            name="last_full_sync_started_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="fhirresource",
            name="deleted_at_source",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="syncrun",
            name="deleted_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="syncrun",
            name="warnings",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
