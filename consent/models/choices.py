"""The fixed vocabularies of the consent app: purpose classes, legal bases, directive kinds, channels."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PurposeClass(models.TextChoices):
    """What a use of data is for, as regimes classify it (DESIGN §3)."""

    PRIMARY_CARE = "primary_care", _("Primary care")
    ACADEMIC_RESEARCH = "academic_research", _("Academic research")
    COMMERCIAL_RND = "commercial_rnd", _("Commercial research and development")
    PUBLIC_HEALTH = "public_health", _("Public health")


# Secondary use is every purpose but the person's own care: the global opt-out and DUO terms cover it.
SECONDARY_PURPOSES = frozenset(
    {PurposeClass.ACADEMIC_RESEARCH, PurposeClass.COMMERCIAL_RND, PurposeClass.PUBLIC_HEALTH}
)


class Basis(models.TextChoices):
    """The legal basis a regime sets for a purpose class and tier."""

    OPT_IN = "opt_in", _("Opt-in: explicit consent needed")
    OPT_OUT = "opt_out", _("Opt-out: allowed after notice unless the person objects")
    STATUTORY = "statutory", _("Statutory: public-interest use under law")
    PROHIBITED = "prohibited", _("Prohibited")


class DirectiveKind(models.TextChoices):
    """The kinds of choice a person makes (DESIGN §3)."""

    GLOBAL_OPT_OUT = "global_opt_out", _("Opt out of all secondary use")
    CATEGORY = "category", _("Allow or refuse a data category for a purpose")
    DUO_TERMS = "duo_terms", _("Data-use terms")
    ORGANISATION_BLOCK = "organisation_block", _("Block an organisation")
    PROJECT = "project", _("Accept or decline a project")
    CONTACT = "contact", _("Contact preferences")


class DirectiveValue(models.TextChoices):
    """Whether a directive allows or refuses; kinds that neither allow nor refuse have no value."""

    PERMIT = "permit", _("Allow")
    DENY = "deny", _("Refuse")


class Channel(models.TextChoices):
    """How a consent event reached Mamori."""

    WEB = "web", _("Web")
    APP = "app", _("Smartphone app")
    PAPER = "paper", _("Paper form")
    PHONE = "phone", _("Telephone")
    PROXY = "proxy", _("Proxy")
    FHIR_IMPORT = "fhir_import", _("Imported FHIR Consent")


# Channels where staff record what a person asked for; they must keep evidence of the request.
STAFF_CHANNELS = frozenset({Channel.PAPER, Channel.PHONE})


class ActorRole(models.TextChoices):
    """In what capacity the user who acted did so."""

    PERSON = "person", _("The person")
    PROXY = "proxy", _("A proxy")
    STAFF = "staff", _("Operator staff")
