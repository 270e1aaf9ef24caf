from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from consent.models.choices import Basis, PurposeClass
from phr.categories import Tier


class RegimeQuerySet(models.QuerySet["Regime"]):
    def in_force(self, at: object) -> RegimeQuerySet:
        """The versions in force at ``at``: started on or before it, not yet ended."""
        return self.filter(effective_from__lte=at).filter(Q(effective_to__isnull=True) | Q(effective_to__gt=at))


class Regime(models.Model):
    """One version of the legal basis for a purpose class and tier, in force between two instants."""

    purpose_class = models.CharField(_("purpose class"), max_length=32, choices=PurposeClass.choices)
    tier = models.PositiveSmallIntegerField(_("tier"), choices=Tier.choices)
    version = models.PositiveIntegerField(_("version"))
    basis = models.CharField(_("basis"), max_length=16, choices=Basis.choices)
    objection_window_days = models.PositiveIntegerField(
        _("objection window (days)"), default=0, help_text=_("Opt-out only: days between the notice and first use.")
    )
    notice_by_publication = models.BooleanField(
        _("publication is the notice"),
        default=False,
        help_text=_("The regime's own public notice counts as notice to everyone (e.g. notices posted for care)."),
    )
    notice_must_state_commercial_use = models.BooleanField(
        _("notice must state the commercial use"),
        default=False,
        help_text=_("A notice counts only if it states that the use is commercial."),
    )
    notice_requirements = models.TextField(_("notice requirements"), blank=True)
    effective_from = models.DateTimeField(_("effective from"))
    effective_to = models.DateTimeField(_("effective to"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RegimeQuerySet.as_manager()

    class Meta:
        ordering = ["purpose_class", "tier", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["purpose_class", "tier", "version"],
                name="regime_unique_version",
                violation_error_message=_("This version of the regime already exists."),
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gt=F("effective_from")),
                name="regime_ends_after_start",
                violation_error_message=_("A regime version must end after it starts."),
            ),
            models.CheckConstraint(condition=Q(tier__gte=1, tier__lte=3), name="regime_tier_known"),
            models.CheckConstraint(
                condition=Q(basis=Basis.OPT_OUT) | Q(objection_window_days=0),
                name="regime_window_only_for_opt_out",
                violation_error_message=_("Only an opt-out regime has an objection window."),
            ),
        ]
        indexes = [models.Index(fields=["purpose_class", "tier", "effective_from"], name="regime_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.get_purpose_class_display()} / tier {self.tier} v{self.version}: {self.get_basis_display()}"

    @property
    def policy_uri(self) -> str:
        """A stable name for this version, used as the policy of FHIR Consent resources and receipts."""
        return f"urn:mamori:regime:{self.purpose_class}:tier-{self.tier}:v{self.version}"
