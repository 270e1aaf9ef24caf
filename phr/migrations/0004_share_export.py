"""Share links get a passcode and chosen categories; background exports get their job model."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Links made before categories existed showed the whole summary but sensitive diagnoses; they keep showing that
# (frozen here: the migration must not follow later changes to the summary's categories).
EARLIER_LINK_CATEGORIES = [
    "allergies",
    "drug_contraindications",
    "diagnoses",
    "infections",
    "prescriptions",
    "lab_results",
    "documents",
]


def categories_for_earlier_links(apps, schema_editor):  # type: ignore[no-untyped-def]
    ShareLink = apps.get_model("phr", "ShareLink")
    ShareLink.objects.filter(categories=[]).update(categories=EARLIER_LINK_CATEGORIES)


class Migration(migrations.Migration):
    dependencies = [("phr", "0003_record_access_log")]

    operations = [
        migrations.AddField(
            model_name="sharelink",
            name="categories",
            field=models.JSONField(default=list, verbose_name="categories shared"),
        ),
        migrations.AddField(
            model_name="sharelink",
            name="failed_passcodes",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="wrong passcodes in a row"),
        ),
        migrations.AddField(
            model_name="sharelink",
            name="failures_since",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="sharelink",
            name="locked_until",
            field=models.DateTimeField(blank=True, null=True, verbose_name="locked after wrong passcodes until"),
        ),
        migrations.AddField(
            model_name="sharelink",
            name="passcode_hash",
            field=models.CharField(blank=True, max_length=128),
        ),
        migrations.CreateModel(
            name="ExportJob",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "format",
                    models.CharField(
                        choices=[("bundle", "FHIR R4 Bundle (JSON)"), ("ndjson", "NDJSON (one resource a line)")],
                        max_length=8,
                        verbose_name="format",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "Waiting to start"),
                            ("running", "Being prepared"),
                            ("ready", "Ready to download"),
                            ("failed", "Failed"),
                        ],
                        default="queued",
                        max_length=8,
                        verbose_name="status",
                    ),
                ),
                ("total", models.PositiveIntegerField(default=0, verbose_name="resources to export")),
                ("done", models.PositiveIntegerField(default=0, verbose_name="resources written")),
                ("size_bytes", models.PositiveBigIntegerField(default=0, verbose_name="size of the file")),
                ("attempts", models.PositiveSmallIntegerField(default=0, verbose_name="runs started")),
                ("lease_until", models.DateTimeField(blank=True, null=True, verbose_name="worker lease ends")),
                ("error", models.CharField(blank=True, max_length=300, verbose_name="why it failed")),
                ("created_at", models.DateTimeField(verbose_name="requested at")),
                ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="finished at")),
                ("expires_at", models.DateTimeField(db_index=True, verbose_name="file expires at")),
                (
                    "person",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="export_jobs", to="phr.person"
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at"],
                "indexes": [
                    models.Index(
                        fields=["person", "requested_by", "-created_at"], name="exportjob_person_requester_idx"
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("status", "ready"), _negated=True),
                            ("finished_at__isnull", False),
                            _connector="OR",
                        ),
                        name="exportjob_ready_has_finished",
                        violation_error_message="An export is ready only once it has finished.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("expires_at__gt", models.F("created_at"))),
                        name="exportjob_expires_after_creation",
                    ),
                ],
            },
        ),
        migrations.RunPython(categories_for_earlier_links, migrations.RunPython.noop),
    ]
