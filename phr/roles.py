"""The one role policy: which staff role may do what, and where. Every staff permission is decided here.

Views, services, the API and the admin ask :func:`can` / :func:`require` (or :func:`restrict` for a queryset);
nothing else looks at ``Membership.role`` to decide a power. A role counts in one of two ways:

- held in the operator organisation (``Organisation.is_operator``, the body that runs Mamori): the power holds
  for every organisation;
- held in an organisation: the power holds for that organisation only (an organisation administrator
  manages their own hospital's API clients, never another's).

Django's ``is_superuser`` and ``is_staff`` flags grant nothing here: no web path sets them, and the only thing
they open is the read-only Django admin (see ``phr/admin``). Superuser, break-glass and the operator's roles
are granted by the ``grant_role`` management command alone.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from phr.models import Membership, Organisation
from phr.models.parties import Role


class Action(models.TextChoices):
    """Every staff power, named for what it lets a person do."""

    VIEW_STAFF_AREA = "view_staff_area", _("Open the staff area")
    ACT_FOR_PERSON = "act_for_person", _("Act for a person (uploads, paper or telephone requests)")
    GRANT_PROXY = "grant_proxy", _("Record a proxy for a person")
    MANAGE_MEMBERSHIPS = "manage_memberships", _("Give or take staff roles")
    LINK_PATIENT = "link_patient", _("Link a person to a hospital patient number")
    MANAGE_ENDPOINTS = "manage_endpoints", _("Manage FHIR endpoints")
    MANAGE_API_CLIENTS = "manage_api_clients", _("Manage API clients")
    MANAGE_REGIMES = "manage_regimes", _("Set regimes")
    BREAK_GLASS = "break_glass", _("Open emergency access to a record")
    REVIEW_BREAK_GLASS = "review_break_glass", _("Review emergency access")
    REVIEW_PROJECTS = "review_projects", _("Review projects")
    RUN_CAMPAIGNS = "run_campaigns", _("Run notification campaigns")
    APPROVE_CAMPAIGNS = "approve_campaigns", _("Approve notification campaigns")
    VIEW_LOG_STATUS = "view_log_status", _("See the state of the tamper-evident logs")


class Reach(enum.Enum):
    """Where a role held in some organisation gives a power."""

    ANYWHERE = "anywhere"  # held in any organisation; the power names no organisation
    OPERATOR = "operator"  # held in the operator organisation; the power holds for every organisation
    OWN = "own"  # held in the organisation the power is used on


# The policy: for each action, the roles that give it and how far. A role absent from a row gives nothing.
POLICY: Mapping[Action, Mapping[Role, Reach]] = {
    Action.VIEW_STAFF_AREA: {role: Reach.ANYWHERE for role in Role},
    Action.ACT_FOR_PERSON: {Role.OPERATOR_ADMIN: Reach.OPERATOR},
    Action.GRANT_PROXY: {Role.OPERATOR_ADMIN: Reach.OPERATOR},
    Action.MANAGE_MEMBERSHIPS: {Role.OPERATOR_ADMIN: Reach.OPERATOR, Role.ORG_ADMIN: Reach.OWN},
    Action.LINK_PATIENT: {Role.OPERATOR_ADMIN: Reach.OPERATOR, Role.ORG_ADMIN: Reach.OWN},
    Action.MANAGE_ENDPOINTS: {Role.OPERATOR_ADMIN: Reach.OPERATOR},
    Action.MANAGE_API_CLIENTS: {Role.OPERATOR_ADMIN: Reach.OPERATOR, Role.ORG_ADMIN: Reach.OWN},
    Action.MANAGE_REGIMES: {Role.OPERATOR_ADMIN: Reach.OPERATOR},
    Action.BREAK_GLASS: {Role.BREAK_GLASS: Reach.OPERATOR},
    Action.REVIEW_BREAK_GLASS: {Role.OPERATOR_ADMIN: Reach.OPERATOR},
    Action.REVIEW_PROJECTS: {Role.REVIEWER: Reach.OPERATOR},
    Action.RUN_CAMPAIGNS: {Role.CAMPAIGN_MANAGER: Reach.OPERATOR},
    Action.APPROVE_CAMPAIGNS: {Role.CAMPAIGN_MANAGER: Reach.OPERATOR, Role.OPERATOR_ADMIN: Reach.OPERATOR},
    Action.VIEW_LOG_STATUS: {Role.OPERATOR_ADMIN: Reach.OPERATOR},
}

# Roles only the grant_role command gives (never a web page): the operator's own staff and emergency access.
PRIVILEGED_ROLES = frozenset({Role.OPERATOR_ADMIN, Role.REVIEWER, Role.CAMPAIGN_MANAGER, Role.BREAK_GLASS})


class NotAllowed(PermissionDenied):
    """The user's roles do not give this action (here); views answer 403."""


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def _granting(action: Action) -> Q:
    """The memberships that give ``action`` somewhere (as a filter on Membership)."""
    query = Q(pk__in=[])
    for role, reach in POLICY[action].items():
        if reach is Reach.OPERATOR:
            query |= Q(role=role, organisation__is_operator=True)
        else:
            query |= Q(role=role)
    return query


def _granting_for(action: Action, organisation: Organisation) -> Q:
    """The memberships that give ``action`` on ``organisation``."""
    query = Q(pk__in=[])
    for role, reach in POLICY[action].items():
        if reach is Reach.OPERATOR:
            query |= Q(role=role, organisation__is_operator=True)
        elif reach is Reach.OWN:
            query |= Q(role=role, organisation=organisation)
        else:
            query |= Q(role=role)
    return query


def _organisation_wide(action: Action) -> Q:
    """The memberships that give ``action`` without naming an organisation (OWN reach needs one)."""
    query = Q(pk__in=[])
    for role, reach in POLICY[action].items():
        if reach is Reach.OPERATOR:
            query |= Q(role=role, organisation__is_operator=True)
        elif reach is Reach.ANYWHERE:
            query |= Q(role=role)
    return query


def can(user: Any, action: Action, *, organisation: Organisation | None = None) -> bool:
    """Whether ``user`` may do ``action`` (on ``organisation`` when the power is about one).

    Without an organisation, a role whose reach is its own organisation does not count: "may manage API
    clients" without saying whose means "of every organisation".
    """
    if not _signed_in(user):
        return False
    memberships = Membership.objects.filter(user=user)
    if organisation is None:
        return memberships.filter(_organisation_wide(action)).exists()
    return memberships.filter(_granting_for(action, organisation)).exists()


def require(user: Any, action: Action, *, organisation: Organisation | None = None) -> None:
    """Raise :class:`NotAllowed` (a ``PermissionDenied``) unless ``user`` may do ``action``."""
    if not can(user, action, organisation=organisation):
        raise NotAllowed(_("Your roles do not allow this."))


def can_somewhere(user: Any, action: Action) -> bool:
    """Whether ``user`` may do ``action`` for at least one organisation (e.g. to show a page's link)."""
    if not _signed_in(user):
        return False
    return Membership.objects.filter(user=user).filter(_granting(action)).exists()


def is_staff(user: Any) -> bool:
    """Holds any staff role (every role is one), or may open the Django admin: who needs a second factor.

    The Django flags give no power (see the module docstring), but the read-only admin shows health data,
    so whoever may open it is staff for the second factor."""
    if not _signed_in(user):
        return False
    return bool(user.is_staff or user.is_superuser) or Membership.objects.filter(user=user).exists()


ModelT = TypeVar("ModelT", bound=models.Model)


def restrict(queryset: QuerySet[ModelT], user: Any, action: Action) -> QuerySet[ModelT]:
    """The organisations in ``queryset`` (or rows with an ``organisation``) on which ``user`` may do ``action``."""
    if not _signed_in(user):
        return queryset.none()
    held = Membership.objects.filter(user=user)
    if held.filter(_organisation_wide(action)).exists():
        return queryset
    own_roles = [role for role, reach in POLICY[action].items() if reach is Reach.OWN]
    organisations = held.filter(role__in=own_roles).values("organisation_id")
    lookup = "pk__in" if queryset.model is Organisation else "organisation__in"
    return queryset.filter(**{lookup: organisations})
