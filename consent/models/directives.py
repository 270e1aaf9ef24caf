from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consent.models.choices import ActorRole, Channel, DirectiveKind, DirectiveValue, PurposeClass
from phr.categories import DataCategory

_K = DirectiveKind


class Directive(models.Model):
    """One choice of a person, in force from ``made_at`` until a later event revokes or replaces it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey("phr.Person", on_delete=models.CASCADE, related_name="directives")
    kind = models.CharField(_("kind"), max_length=24, choices=DirectiveKind.choices)
    value = models.CharField(_("value"), max_length=8, choices=DirectiveValue.choices, blank=True)
    category = models.CharField(_("data category"), max_length=32, choices=DataCategory.choices, blank=True)
    purpose_class = models.CharField(_("purpose class"), max_length=32, choices=PurposeClass.choices, blank=True)
    organisation = models.ForeignKey(
        "phr.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    project = models.ForeignKey("consent.Project", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    categories = models.JSONField(_("categories shown"), default=list, blank=True)
    terms = models.JSONField(_("DUO terms (wire form)"), null=True, blank=True)
    preferences = models.JSONField(_("contact preferences"), null=True, blank=True)
    made_at = models.DateTimeField(_("made at"))
    event = models.ForeignKey("consent.ConsentEvent", on_delete=models.PROTECT, related_name="directives_added")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        "consent.ConsentEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="directives_revoked"
    )

    class Meta:
        ordering = ["made_at", "id"]
        indexes = [models.Index(fields=["person", "revoked_at"], name="directive_person_active_idx")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind=_K.GLOBAL_OPT_OUT, value=DirectiveValue.DENY)
                    | (Q(kind=_K.CATEGORY, value__in=DirectiveValue.values) & (~Q(category="") | ~Q(purpose_class="")))
                    | Q(kind=_K.DUO_TERMS, value="", terms__isnull=False)
                    | Q(kind=_K.ORGANISATION_BLOCK, value=DirectiveValue.DENY, organisation__isnull=False)
                    | Q(kind=_K.PROJECT, value__in=DirectiveValue.values, project__isnull=False)
                    | Q(kind=_K.CONTACT, value="", preferences__isnull=False)
                ),
                name="directive_fields_match_kind",
                violation_error_message=_("The directive's fields do not match its kind."),
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, revoked_by__isnull=True)
                | Q(revoked_at__isnull=False, revoked_by__isnull=False),
                name="directive_revoked_by_event",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}".strip()


class ConsentEvent(models.Model):
    """An append-only record of one change to a person's choices: who, for whom, how, what, what they saw."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey("phr.Person", on_delete=models.PROTECT, related_name="consent_events")
    sequence = models.PositiveIntegerField(_("state version after this event"))
    at = models.DateTimeField(_("at"), db_index=True)
    action = models.CharField(_("action"), max_length=48)
    actor = models.ForeignKey("phr.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_role = models.CharField(_("acting as"), max_length=8, choices=ActorRole.choices)
    proxy = models.ForeignKey("phr.Proxy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    changes = models.JSONField(_("what changed"), default=dict)
    notice_version = models.CharField(_("notice or policy text shown"), max_length=128, blank=True)
    evidence = models.TextField(_("evidence"), blank=True)

    class Meta:
        ordering = ["person", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["person", "sequence"], name="consent_event_unique_sequence"),
            models.CheckConstraint(
                condition=~Q(channel__in=["paper", "phone"]) | ~Q(evidence=""),
                name="consent_event_staff_channel_has_evidence",
                violation_error_message=_("A paper or phone request needs its evidence recorded."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} #{self.sequence} ({self.channel})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("consent events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("consent events are append-only")


class ConsentState(models.Model):
    """A person's current choices, materialised for fast decisions, with a version for optimistic concurrency."""

    person = models.OneToOneField(
        "phr.Person", primary_key=True, on_delete=models.CASCADE, related_name="consent_state"
    )
    version = models.PositiveIntegerField(_("version"), default=0)
    directives = models.JSONField(_("current directives (engine form)"), default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(version__gte=0), name="consent_state_version_not_negative")]

    def __str__(self) -> str:
        return f"Consent state v{self.version}"
