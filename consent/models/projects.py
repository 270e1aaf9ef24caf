from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from consent.duo.terms import ResearchPurpose
from consent.duo.wire import WireError, parse_match_request
from consent.models.choices import PurposeClass
from phr.categories import DataCategory

# A neutral consent used only to run the wire parser over a project's purpose.
_ANY_CONSENT = {"permission": "NRES", "consented_at": "1900-01-01"}


class ProjectStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CLOSED = "closed", _("Closed")


class ProcessingMode(models.TextChoices):
    TRE = "tre", _("Trusted research environment")
    EXPORT = "export", _("Export to the researcher")


def parse_duo_purpose(value: object, at: date) -> ResearchPurpose:
    """A project's DUO purpose (the wire form's ``purpose`` without ``at``) for use on ``at``.

    Raises WireError when it does not follow the wire form.
    """
    if not isinstance(value, dict):
        value = {"_": value}
    purpose = {**value, "at": at.isoformat()}
    return parse_match_request({"consent": _ANY_CONSENT, "purpose": purpose}).purpose


class Project(models.Model):
    """An organisation's application to use data for a DUO-coded purpose (review comes in a later issue)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey("phr.Organisation", on_delete=models.PROTECT, related_name="projects")
    title_ja = models.CharField(_("title (Japanese)"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300, blank=True)
    summary_ja = models.TextField(_("plain-language summary (Japanese)"))
    summary_en = models.TextField(_("plain-language summary (English)"), blank=True)
    purpose_class = models.CharField(_("purpose class"), max_length=32, choices=PurposeClass.choices)
    duo_purpose = models.JSONField(
        _("DUO research purpose"),
        help_text=_("The wire form's purpose object without 'at' (DESIGN §5)."),
    )
    data_categories = models.JSONField(_("data categories"), default=list)
    commercial = models.BooleanField(_("commercial"), default=False)
    ethics_approval = models.BooleanField(_("ethics approval"), default=False)
    ethics_reference = models.CharField(_("ethics approval reference"), max_length=200, blank=True)
    publication_commitment = models.BooleanField(_("commits to publishing results"), default=False)
    collaboration_commitment = models.TextField(_("collaboration commitment"), blank=True)
    return_of_results_commitment = models.BooleanField(_("commits to returning results"), default=False)
    regions = models.JSONField(_("processing regions"), default=list)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    processing_mode = models.CharField(_("processing mode"), max_length=8, choices=ProcessingMode.choices)
    status = models.CharField(_("status"), max_length=16, choices=ProjectStatus.choices, default=ProjectStatus.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="project_period_ends_after_start",
                violation_error_message=_("A project must end after it starts."),
            ),
            models.CheckConstraint(
                condition=Q(commercial=False) | ~Q(purpose_class=PurposeClass.ACADEMIC_RESEARCH),
                name="project_commercial_not_academic",
                violation_error_message=_("A commercial project cannot be classed as academic research."),
            ),
        ]

    def __str__(self) -> str:
        return self.title_ja

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        try:
            purpose = parse_duo_purpose(self.duo_purpose, self.period_start or date.today())
        except WireError as error:
            errors["duo_purpose"] = [problem.message_en for problem in error.problems]
        else:
            mismatched = [
                name
                for name, column in (
                    ("commercial", self.commercial),
                    ("ethics_approval", self.ethics_approval),
                    ("publication", self.publication_commitment),
                    ("returns_data", self.return_of_results_commitment),
                )
                if getattr(purpose, name) != column
            ]
            if mismatched:
                errors["duo_purpose"] = [f"disagrees with the project's own fields: {', '.join(mismatched)}"]
            elif self.organisation_id and purpose.for_profit != (self.organisation.kind == "commercial"):
                errors["duo_purpose"] = ["for_profit must be true exactly when the organisation is commercial"]
        if (self.purpose_class == PurposeClass.COMMERCIAL_RND) != self.commercial and self.purpose_class in (
            PurposeClass.COMMERCIAL_RND,
            PurposeClass.ACADEMIC_RESEARCH,
        ):
            errors["commercial"] = [_("Commercial R&D is commercial; academic research is not.")]
        categories = self.data_categories if isinstance(self.data_categories, list) else [None]
        unknown = [c for c in categories if c not in DataCategory.values]
        if unknown or not categories:
            errors["data_categories"] = [_("Choose at least one known data category.")]
        if errors:
            raise ValidationError(errors)
