"""The encrypted FHIR resource store, its versions, its clear index, sync runs and deletions."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from phr.categories import DataCategory, Tier


class SyncRunKind(models.TextChoices):
    SYNC = "sync", _("Sync from a hospital")
    UPLOAD = "upload", _("Upload")


class SyncRunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class SyncRun(models.Model):
    """One pass of records into a person's store (a sync or an upload) and its report, without health data."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey("phr.Person", on_delete=models.CASCADE, related_name="sync_runs")
    connection = models.ForeignKey(
        "phr.Connection", null=True, blank=True, on_delete=models.CASCADE, related_name="sync_runs"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=SyncRunKind.choices)
    status = models.CharField(_("status"), max_length=12, choices=SyncRunStatus.choices, default=SyncRunStatus.QUEUED)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    deleted_count = models.PositiveIntegerField(default=0)
    rejected_entries = models.JSONField(default=list, blank=True)
    skipped_entries = models.JSONField(default=list, blank=True)
    # Things the person should know that did not stop the run (an upload without a Patient, say).
    warnings = models.JSONField(default=list, blank=True)
    requests_made = models.PositiveIntegerField(default=0)
    incremental_since = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["connection", "-started_at"], name="syncrun_connection_started_idx"),
            models.Index(fields=["person", "-created_at"], name="syncrun_person_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=SyncRunKind.UPLOAD) | Q(connection__isnull=False),
                name="syncrun_sync_has_connection",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"


class FhirResource(models.Model):
    """The latest version of one FHIR resource from one source, as received, encrypted with the person's key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: the unique constraint (person, source_key, …) serves lookups by person.
    person = models.ForeignKey("phr.Person", on_delete=models.CASCADE, related_name="fhir_resources", db_index=False)
    source_key = models.CharField(max_length=500)
    connection = models.ForeignKey(
        "phr.Connection", null=True, blank=True, on_delete=models.SET_NULL, related_name="resources"
    )
    resource_type = models.CharField(max_length=64)
    resource_id = models.CharField(max_length=64)
    version = models.PositiveIntegerField(default=1)
    source_version_id = models.CharField(max_length=64, blank=True)
    source_last_updated = models.DateTimeField(null=True, blank=True)
    content_digest = models.CharField(max_length=64)
    raw_encrypted = models.BinaryField()
    self_reported = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When a full sync found the hospital no longer serves it: kept with its versions, out of the record views.
    deleted_at_source = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "source_key", "resource_type", "resource_id"],
                name="fhirresource_unique_per_source",
                violation_error_message=_("This resource is already stored for this source."),
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="fhirresource_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.resource_type}/{self.resource_id} v{self.version}"


class FhirResourceVersion(models.Model):
    """An earlier version of a stored resource, kept encrypted when a newer one replaced it."""

    # Served by the unique constraint (resource, version); a second index would only slow inserts.
    resource = models.ForeignKey(FhirResource, on_delete=models.CASCADE, related_name="versions", db_index=False)
    version = models.PositiveIntegerField()
    raw_encrypted = models.BinaryField()
    source_version_id = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["resource", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["resource", "version"], name="fhirresourceversion_unique_version")
        ]

    def __str__(self) -> str:
        return f"{self.resource_id} v{self.version}"


class ResourceRole(models.TextChoices):
    """Whether a resource is clinical data about the person, or supports other resources (Patient, Organization…)."""

    CLINICAL = "clinical", _("Clinical data")
    SUPPORTING = "supporting", _("Supporting resource")


class ResourceIndex(models.Model):
    """What the portal lists and filters without decrypting: type, category, dates; codes stay encrypted."""

    resource = models.OneToOneField(FhirResource, primary_key=True, on_delete=models.CASCADE, related_name="index")
    # Served by the composite indexes below, which all start with person.
    person = models.ForeignKey("phr.Person", on_delete=models.CASCADE, related_name="+", db_index=False)
    resource_type = models.CharField(max_length=64)
    role = models.CharField(max_length=12, choices=ResourceRole.choices, default=ResourceRole.CLINICAL)
    category = models.CharField(max_length=32, choices=DataCategory.choices, blank=True)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, null=True, blank=True)
    status = models.CharField(max_length=64, blank=True)
    effective_at = models.DateTimeField(null=True, blank=True)
    effective_date = models.DateField(null=True, blank=True)
    code_system = models.CharField(max_length=255, blank=True)
    code_digest = models.CharField(max_length=64, blank=True)
    code_encrypted = models.BinaryField(null=True, blank=True)
    display_encrypted = models.BinaryField(null=True, blank=True)
    source_organisation = models.ForeignKey(
        "phr.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    encounter_ref = models.CharField(max_length=255, blank=True)
    self_reported = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["person", "category", "-effective_at"], name="resindex_person_cat_eff_idx"),
            models.Index(fields=["person", "-effective_at"], name="resindex_person_eff_idx"),
            models.Index(fields=["person", "resource_type"], name="resindex_person_type_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(category="") & Q(tier__isnull=True)) | (~Q(category="") & Q(tier__isnull=False)),
                name="resindex_tier_iff_category",
            ),
            models.CheckConstraint(
                condition=Q(role=ResourceRole.CLINICAL) | Q(category=""),
                name="resindex_supporting_has_no_category",
            ),
        ]

    def __str__(self) -> str:
        return f"index of {self.resource_id}"


class RecordDeletion(models.Model):
    """That a person's records were deleted: by whom, which scope, how many rows — never what they held."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    person = models.ForeignKey("phr.Person", on_delete=models.CASCADE, related_name="record_deletions")
    scope = models.CharField(max_length=500, help_text="a connection id, a source key, or 'all'")
    resources_deleted = models.PositiveIntegerField(default=0)
    versions_deleted = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"deletion of {self.scope} at {self.at:%Y-%m-%d %H:%M}"
