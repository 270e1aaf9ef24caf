"""Writes to a person's consent: every choice of DESIGN §3, made by whoever may make it.

Every public function here is keyword-only and atomic, and does the same four things in one
transaction: authorise the actor, check ``expected_version`` (when given) against the person's current
state, append a :class:`ConsentEvent` with the directives it adds and revokes, re-materialise
:class:`ConsentState` with ``version + 1``, and sign a :class:`Receipt`. Each returns the event
(``event.receipt`` and ``event.sequence``, the new version, are set).

Who may act (``channel``):

- ``web`` / ``app``: the person themself, or a proxy whose active grant has the ``manage_consent``
  scope (the event's channel is then ``proxy`` and the act is also audited for the person to see);
- ``paper`` / ``phone``: operator staff (reviewer, campaign manager, administrator) recording the
  person's own request, with ``evidence`` (what was received and checked);
- ``fhir_import``: any of the above importing a FHIR Consent (see :mod:`consent.fhir`).

On one scope the newest choice replaces the older one (the older directive is revoked by the event),
so the state holds at most one directive per scope. A stale ``expected_version`` raises
:class:`ConsentConflict` and changes nothing: callers that showed the person a version pass it back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.duo.icd10 import DiseaseCodeError
from consent.duo.wire import WireError, parse_match_request
from consent.engine.state import PURPOSE_CLASSES
from consent.errors import ConsentConflict, ConsentNotAllowed, InvalidDirective
from consent.models import (
    ActorRole,
    Basis,
    Channel,
    ConsentEvent,
    ConsentState,
    Directive,
    DirectiveKind,
    DirectiveValue,
    NoticeChannel,
    Project,
    Receipt,
    Regime,
)
from consent.models.choices import STAFF_CHANNELS
from consent.receipts.records import build_record
from consent.receipts.signing import sign
from consent.state import directive_entry, state_entries
from phr import roles
from phr.access import active_proxy_for
from phr.categories import TIERS, Tier
from phr.models import Organisation, Person, Proxy, User
from phr.models.parties import ProxyScope
from phr.roles import Action
from phr.services import record_audit

CONTACT_CHANNELS = frozenset(NoticeChannel.values) - {NoticeChannel.PUBLIC}


@dataclass(frozen=True)
class Acting:
    """Who acts, in what capacity, through which channel."""

    actor: User
    role: ActorRole
    channel: Channel
    proxy: Proxy | None = None


@dataclass
class Change:
    """Directives one consent event revokes (by scope) and adds."""

    action: str
    revoke: Q | None = None
    add: list[Directive] = field(default_factory=list)


def authorise(*, person: Person, actor: User, channel: str, evidence: str = "") -> Acting:
    """Who ``actor`` is for ``person`` on ``channel``, or ConsentNotAllowed."""
    if channel not in Channel.values or channel == Channel.PROXY:
        raise ConsentNotAllowed(
            _("Unknown channel %(channel)s; a proxy acts through web or app.") % {"channel": channel}
        )
    if not actor.is_authenticated or not actor.is_active:
        raise ConsentNotAllowed(_("Sign in to change choices."))
    if channel in STAFF_CHANNELS:
        return _staff(actor, channel, evidence)
    if person.user_id is not None and person.user_id == actor.pk:
        return Acting(actor, ActorRole.PERSON, Channel(channel))
    proxy = active_proxy_for(actor, person.pk)
    if proxy is not None and proxy.allows(ProxyScope.MANAGE_CONSENT):
        recorded = Channel.PROXY if channel in (Channel.WEB, Channel.APP) else Channel(channel)
        return Acting(actor, ActorRole.PROXY, recorded, proxy)
    if channel == Channel.FHIR_IMPORT and roles.can(actor, Action.ACT_FOR_PERSON):
        return _staff(actor, channel, evidence)
    raise ConsentNotAllowed(_("You may not change this person's choices."))


def _staff(actor: User, channel: str, evidence: str) -> Acting:
    if not roles.can(actor, Action.ACT_FOR_PERSON):
        raise ConsentNotAllowed(_("Only operator staff record paper or telephone requests."))
    if not evidence.strip():
        raise ConsentNotAllowed(_("Record the evidence of the person's request (form number, call record)."))
    return Acting(actor, ActorRole.STAFF, Channel(channel))


def _locked_state(person: Person) -> ConsentState:
    try:
        with transaction.atomic():
            ConsentState.objects.get_or_create(person=person)
    except IntegrityError:
        pass  # made by a concurrent first write: lock theirs
    return ConsentState.objects.select_for_update().get(person=person)


@transaction.atomic
def record_change(
    *,
    person: Person,
    acting: Acting,
    change: Change,
    expected_version: int | None = None,
    notice_version: str = "",
    evidence: str = "",
    at: datetime | None = None,
    extra: Mapping[str, Any] | None = None,
) -> ConsentEvent:
    """Apply one change as one event. The building block of every service below and of FHIR import."""
    state = _locked_state(person)
    if expected_version is not None and expected_version != state.version:
        raise ConsentConflict(expected=expected_version, current=state.version)
    now = at or timezone.now()
    active = Directive.objects.filter(person=person, revoked_at__isnull=True)
    revoked = list(active.filter(change.revoke)) if change.revoke is not None else []
    event = ConsentEvent(
        person=person,
        sequence=state.version + 1,
        at=now,
        action=change.action,
        actor=acting.actor,
        actor_role=acting.role,
        proxy=acting.proxy,
        channel=acting.channel,
        notice_version=notice_version[:128],
        evidence=evidence.strip(),
    )
    for directive in change.add:
        directive.person = person
        # An import may carry when each choice was made (never later than now); every other choice is made now.
        directive.made_at = min(directive.made_at, now) if directive.made_at else now
    event.changes = {
        "added": [_described(d) for d in change.add],
        "revoked": [_described(d) for d in revoked],
        **(dict(extra) if extra else {}),
    }
    event.save(force_insert=True)
    if revoked:
        Directive.objects.filter(pk__in=[d.pk for d in revoked]).update(revoked_at=now, revoked_by=event)
    for directive in change.add:
        directive.event = event
        directive.full_clean(exclude=["person", "event", "organisation", "project"])
    Directive.objects.bulk_create(change.add)
    state.version = event.sequence
    state.directives = state_entries(active.select_related(None))
    state.save(update_fields=["version", "directives", "updated_at"])
    receipt = Receipt(event=event, payload={}, signature="", key_id="")
    receipt.payload = build_record(receipt=receipt, event=event, state=state)
    receipt.key_id, receipt.signature = sign(receipt.payload)
    receipt.save(force_insert=True)
    if acting.role is not ActorRole.PERSON:
        record_audit(
            actor=acting.actor,
            person=person,
            action=f"consent.changed_by_{acting.role}",
            event=str(event.id),
            channel=acting.channel,
        )
    return event


def _described(directive: Directive) -> dict[str, Any]:
    entry = directive_entry(directive)
    project = directive.project if directive.kind == DirectiveKind.PROJECT else None
    if project is not None:
        entry.update(purpose_class=project.purpose_class, organisation=str(project.organisation_id))
    return entry


def _act(person: Person, actor: User, channel: str, evidence: str, change: Change, **options: Any) -> ConsentEvent:
    acting = authorise(person=person, actor=actor, channel=channel, evidence=evidence)
    return record_change(person=person, acting=acting, change=change, evidence=evidence, **options)


def _purpose_class(value: str) -> str:
    if value and value not in PURPOSE_CLASSES:
        raise InvalidDirective(_("Unknown purpose class %(value)s.") % {"value": value})
    return value


def _value(value: str) -> str:
    if value not in DirectiveValue.values:
        raise InvalidDirective(_("A choice is permit or deny, not %(value)s.") % {"value": value})
    return value


# -- the choices of DESIGN §3 ----------------------------------------------------------------------------


def set_global_opt_out(
    *,
    person: Person,
    actor: User,
    opted_out: bool,
    channel: str = Channel.WEB,
    evidence: str = "",
    expected_version: int | None = None,
    notice_version: str = "",
) -> ConsentEvent:
    """Opt out of every secondary use (``opted_out=True``), or end that opt-out.

    An opt-out also withdraws earlier project acceptances and category allows for secondary use
    (see consent.engine.decide); choices made after it count again.
    """
    change = Change(
        "global_opt_out.set" if opted_out else "global_opt_out.cleared",
        revoke=Q(kind=DirectiveKind.GLOBAL_OPT_OUT),
        add=[Directive(kind=DirectiveKind.GLOBAL_OPT_OUT, value=DirectiveValue.DENY)] if opted_out else [],
    )
    return _act(
        person, actor, channel, evidence, change, expected_version=expected_version, notice_version=notice_version
    )


def set_category_choice(
    *,
    person: Person,
    actor: User,
    category: str,
    purpose_class: str,
    value: str | None,
    channel: str = Channel.WEB,
    evidence: str = "",
    expected_version: int | None = None,
    notice_version: str = "",
) -> ConsentEvent:
    """Allow (``"permit"``) or refuse (``"deny"``) a data category for a purpose class; ``None`` clears it.

    An empty ``category`` means every category, an empty ``purpose_class`` every purpose class (not both).
    """
    if category and category not in TIERS:
        raise InvalidDirective(_("Unknown data category %(value)s.") % {"value": category})
    _purpose_class(purpose_class)
    if not category and not purpose_class:
        raise InvalidDirective(_("Name a data category, a purpose class or both."))
    scope = Q(kind=DirectiveKind.CATEGORY, category=category, purpose_class=purpose_class)
    add = []
    if value is not None:
        add.append(
            Directive(kind=DirectiveKind.CATEGORY, value=_value(value), category=category, purpose_class=purpose_class)
        )
    change = Change("category.set" if value else "category.cleared", revoke=scope, add=add)
    return _act(
        person, actor, channel, evidence, change, expected_version=expected_version, notice_version=notice_version
    )


def validate_duo_terms(terms: object) -> dict[str, Any]:
    """Wire-form DUO terms (DESIGN §5 ``consent``), checked; InvalidDirective lists every problem."""
    stub = {
        "type": "HMB",
        "at": "2000-01-01",
        "commercial": False,
        "for_profit": False,
        "genetic": False,
        "ethics_approval": False,
        "publication": False,
        "returns_data": False,
    }
    try:
        parse_match_request({"consent": terms, "purpose": stub})
    except WireError as error:
        problems = [f"{p.pointer}: {p.message_en}" for p in error.problems if p.pointer.startswith("/consent")]
        raise InvalidDirective(_("These data-use terms are not valid."), problems) from error
    except DiseaseCodeError as error:
        raise InvalidDirective(str(error)) from error
    assert isinstance(terms, dict)
    return terms


def set_duo_terms(
    *,
    person: Person,
    actor: User,
    terms: Mapping[str, Any] | None,
    channel: str = Channel.WEB,
    evidence: str = "",
    expected_version: int | None = None,
    notice_version: str = "",
) -> ConsentEvent:
    """Set the person's DUO data-use terms (wire form, e.g. ``{"permission": "HMB", "modifiers": ["NCU"],
    "consented_at": "2026-11-21"}``), replacing earlier ones; ``None`` removes them."""
    add = []
    if terms is not None:
        add.append(Directive(kind=DirectiveKind.DUO_TERMS, terms=validate_duo_terms(dict(terms))))
    change = Change("duo_terms.set" if terms else "duo_terms.cleared", revoke=Q(kind=DirectiveKind.DUO_TERMS), add=add)
    return _act(
        person, actor, channel, evidence, change, expected_version=expected_version, notice_version=notice_version
    )


def set_organisation_block(
    *,
    person: Person,
    actor: User,
    organisation: Organisation,
    blocked: bool,
    purpose_class: str = "",
    channel: str = Channel.WEB,
    evidence: str = "",
    expected_version: int | None = None,
    notice_version: str = "",
) -> ConsentEvent:
    """Block an organisation for every purpose, or for one purpose class (``primary_care``: the
    per-organisation opt-out of care sharing); ``blocked=False`` lifts that block."""
    _purpose_class(purpose_class)
    scope = Q(kind=DirectiveKind.ORGANISATION_BLOCK, organisation=organisation, purpose_class=purpose_class)
    add = []
    if blocked:
        add.append(
            Directive(
                kind=DirectiveKind.ORGANISATION_BLOCK,
                value=DirectiveValue.DENY,
                organisation=organisation,
                purpose_class=purpose_class,
            )
        )
    change = Change("organisation.blocked" if blocked else "organisation.unblocked", revoke=scope, add=add)
    return _act(
        person, actor, channel, evidence, change, expected_version=expected_version, notice_version=notice_version
    )


def decide_project(
    *,
    person: Person,
    actor: User,
    project: Project,
    accept: bool,
    categories: Sequence[str] | None = None,
    channel: str = Channel.WEB,
    evidence: str = "",
    expected_version: int | None = None,
    notice_version: str = "",
) -> ConsentEvent:
    """Accept a project for the categories shown (default: all the project asks for) or decline it.

    Declining after accepting is how a person withdraws from a project.
    """
    requested = list(project.data_categories)
    shown = list(categories) if categories is not None else requested
    if accept and not shown:
        raise InvalidDirective(_("Accept at least one data category."))
    outside = sorted(set(shown) - set(requested))
    if outside:
        raise InvalidDirective(_("The project does not ask for: %(categories)s.") % {"categories": ", ".join(outside)})
    directive = Directive(
        kind=DirectiveKind.PROJECT,
        value=DirectiveValue.PERMIT if accept else DirectiveValue.DENY,
        project=project,
        categories=sorted(shown) if accept else sorted(requested),
    )
    change = Change(
        "project.accepted" if accept else "project.declined",
        revoke=Q(kind=DirectiveKind.PROJECT, project=project),
        add=[directive],
    )
    return _act(
        person, actor, channel, evidence, change, expected_version=expected_version, notice_version=notice_version
    )


def set_contact_preferences(
    *,
    person: Person,
    actor: User,
    preferences: Mapping[str, bool],
    channel: str = Channel.WEB,
    evidence: str = "",
    expected_version: int | None = None,
) -> ConsentEvent:
    """Which channels may carry notices to the person: ``{"email": True, "sms": False, …}``."""
    unknown = sorted(set(preferences) - CONTACT_CHANNELS)
    if unknown or not all(isinstance(v, bool) for v in preferences.values()):
        raise InvalidDirective(
            _("Contact preferences are true or false for: %(channels)s.")
            % {"channels": ", ".join(sorted(CONTACT_CHANNELS))}
        )
    change = Change(
        "contact.set",
        revoke=Q(kind=DirectiveKind.CONTACT),
        add=[Directive(kind=DirectiveKind.CONTACT, preferences=dict(sorted(preferences.items())))],
    )
    return _act(person, actor, channel, evidence, change, expected_version=expected_version)


# -- regimes ---------------------------------------------------------------------------------------------


def validate_regime_version(
    *, actor: User, purpose_class: str, tier: int, basis: str, effective_from: datetime, objection_window_days: int
) -> None:
    """Raise ConsentNotAllowed or InvalidDirective if this new version may not be created."""
    if not roles.can(actor, Action.MANAGE_REGIMES):
        raise ConsentNotAllowed(_("Only operator administrators set regimes."))
    if purpose_class not in PURPOSE_CLASSES:
        raise InvalidDirective(_("Unknown purpose class %(value)s.") % {"value": purpose_class})
    if tier not in Tier.values:
        raise InvalidDirective(_("Unknown tier %(value)s.") % {"value": tier})
    if basis not in Basis.values:
        raise InvalidDirective(_("Unknown basis %(value)s.") % {"value": basis})
    if basis == Basis.OPT_OUT and tier == Tier.SENSITIVE:
        raise InvalidDirective(_("Tier 3 data cannot be covered by an opt-out regime."))
    if basis != Basis.OPT_OUT and objection_window_days:
        raise InvalidDirective(_("Only an opt-out regime has an objection window."))
    if objection_window_days < 0:
        raise InvalidDirective(_("The objection window cannot be negative."))
    if effective_from <= timezone.now():
        raise InvalidDirective(_("A new version takes effect in the future; past versions are never changed."))
    latest = Regime.objects.filter(purpose_class=purpose_class, tier=tier).order_by("-version").first()
    if latest is not None and effective_from <= latest.effective_from:
        raise InvalidDirective(_("A new version must start after the latest version starts."))


@transaction.atomic
def create_regime_version(
    *,
    actor: User,
    purpose_class: str,
    tier: int,
    basis: str,
    effective_from: datetime,
    objection_window_days: int = 0,
    notice_requirements: str = "",
    notice_by_publication: bool = False,
    notice_must_state_commercial_use: bool = False,
) -> Regime:
    """A new version of a purpose class × tier regime, taking effect at a future instant.

    Past versions are never edited: the version in force (and any scheduled one) is closed at the new
    version's start, so every decision ever made can be traced to the version that made it. Tier 3
    data may not be covered by an opt-out regime (only opt-in, statutory or prohibited).
    """
    cell = Regime.objects.select_for_update().filter(purpose_class=purpose_class, tier=tier)
    latest = cell.order_by("-version").first()  # locks the cell's latest version against a concurrent one
    validate_regime_version(
        actor=actor,
        purpose_class=purpose_class,
        tier=tier,
        basis=basis,
        effective_from=effective_from,
        objection_window_days=objection_window_days,
    )
    cell.filter(Q(effective_to__isnull=True) | Q(effective_to__gt=effective_from)).update(effective_to=effective_from)
    regime = Regime.objects.create(
        purpose_class=purpose_class,
        tier=tier,
        version=(latest.version + 1) if latest else 1,
        basis=basis,
        objection_window_days=objection_window_days if basis == Basis.OPT_OUT else 0,
        notice_requirements=notice_requirements,
        notice_by_publication=notice_by_publication,
        notice_must_state_commercial_use=notice_must_state_commercial_use,
        effective_from=effective_from,
        created_by=actor,
    )
    record_audit(
        actor=actor,
        person=None,
        action="regime.version_created",
        regime=regime.pk,
        purpose_class=purpose_class,
        tier=tier,
        version=regime.version,
        basis=basis,
    )
    return regime
