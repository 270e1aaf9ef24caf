import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("phr", "0002_fhir_records"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ShareLink",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("token_digest", models.CharField(max_length=64, unique=True)),
                ("label", models.CharField(max_length=100, verbose_name="for whom")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("expires_at", models.DateTimeField()),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "person",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="share_links", to="phr.person"
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("expires_at__gt", models.F("created_at"))),
                        name="sharelink_expires_after_creation",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="RecordAccess",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("actor_label", models.CharField(max_length=255)),
                (
                    "route",
                    models.CharField(
                        choices=[
                            ("proxy", "As a proxy"),
                            ("share_link", "Through a share link"),
                            ("staff", "As operator staff"),
                            ("break_glass", "In an emergency (break-glass)"),
                        ],
                        max_length=16,
                    ),
                ),
                ("page", models.CharField(help_text="what was read, e.g. records.timeline", max_length=64)),
                (
                    "subject",
                    models.CharField(
                        blank=True, help_text="a test key or a resource id; never its content", max_length=64
                    ),
                ),
                (
                    "reason",
                    models.CharField(
                        blank=True, help_text="the reason given, where the route asks for one", max_length=500
                    ),
                ),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "person",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="record_accesses",
                        to="phr.person",
                    ),
                ),
                (
                    "proxy",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="phr.proxy",
                    ),
                ),
                (
                    "share_link",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="accesses",
                        to="phr.sharelink",
                    ),
                ),
            ],
            options={
                "ordering": ["-at"],
                "indexes": [models.Index(fields=["person", "-at"], name="recordaccess_person_at_idx")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("route", "proxy"), _negated=True) | models.Q(("proxy__isnull", False)),
                        name="recordaccess_proxy_route_names_proxy",
                    )
                ],
            },
        ),
    ]
