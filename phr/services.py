"""Writes to parties, identifiers, memberships and proxies. Each is atomic and leaves an audit event."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from phr import roles
from phr.crypto.blind_index import blind_index, normalise_identifier_value
from phr.crypto.datakeys import encrypt_for_person
from phr.errors import IdentifierAlreadyLinked, ProxyNotAllowed
from phr.models import AuditEvent, Identifier, Membership, Organisation, Person, Proxy, User
from phr.models.parties import LegalBasis, OrganisationKind, ProxyScope, Role
from phr.models.tlog import LogName
from phr.roles import Action
from phr.tlog.store import sequence

CHILD_PROXY_AGE_LIMIT = 16


def identifier_context(identifier_id: object) -> str:
    return f"phr.identifier.value:{identifier_id}"


def record_audit(*, actor: User | None, person: Person | None, action: str, **detail: Any) -> AuditEvent:
    """Write an audit event and queue its entry in the ``audit`` log (phr.tlog) in one transaction."""
    event = AuditEvent(
        actor=actor,
        person=person,
        action=action,
        # As the JSON column will give it back, so the log entry's bytes match the stored row.
        detail=json.loads(json.dumps(detail)),
        at=timezone.now(),
        actor_ref=str(actor.pk) if actor is not None else "",
        person_ref=str(person.pk) if person is not None else "",
    )
    with transaction.atomic():
        event.log_entry_id = sequence(LogName.AUDIT, event.log_body())
        event.save(force_insert=True)
    return event


@transaction.atomic
def create_person(
    *,
    family_name: str,
    given_name: str,
    birth_date: date,
    user: User | None = None,
    actor: User | None = None,
    **profile: Any,
) -> Person:
    person = Person.objects.create(
        user=user, family_name=family_name, given_name=given_name, birth_date=birth_date, **profile
    )
    record_audit(actor=actor or user, person=person, action="person.created")
    return person


@transaction.atomic
def update_profile(*, person: Person, actor: User, **fields: Any) -> Person:
    allowed = {"preferred_language", "prefecture", "family_name_kana", "given_name_kana"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"fields not editable here: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(person, name, value)
    person.full_clean()
    person.save(update_fields=sorted(fields))
    record_audit(actor=actor, person=person, action="person.profile_updated", fields=sorted(fields))
    return person


def _system_owner(system: str) -> Organisation | None:
    """The organisation whose patient numbers ``system`` names; None for a national or unknown system."""
    return Organisation.objects.filter(patient_number_system=system).first() if system else None


@transaction.atomic
def link_identifier(*, person: Person, system: str, value: str, actor: User | None) -> Identifier:
    """Link a person's identifier in ``system``: staff allowed to link patients of the organisation whose
    patient-number system it is (any other system: operator-wide), or the system itself (``actor`` None)."""
    _authorise(actor, Action.LINK_PATIENT, organisation=_system_owner(system))
    value = normalise_identifier_value(value)
    if not system or not value:
        raise IdentifierAlreadyLinked(_("Both the identifier system and value are needed."))
    identifier = Identifier(person=person, system=system, blind_index=blind_index(system, value))
    identifier.value_encrypted = encrypt_for_person(
        person, value.encode("utf-8"), context=identifier_context(identifier.id)
    )
    try:
        with transaction.atomic():
            identifier.save(force_insert=True)
    except IntegrityError as exc:
        raise IdentifierAlreadyLinked(
            _("This identifier is already linked, or the person already has one in this system.")
        ) from exc
    record_audit(actor=actor, person=person, action="identifier.linked", system=system)
    return identifier


@transaction.atomic
def unlink_identifier(*, identifier: Identifier, actor: User | None) -> None:
    _authorise(actor, Action.LINK_PATIENT, organisation=_system_owner(identifier.system))
    person, system = identifier.person, identifier.system
    identifier.delete()
    record_audit(actor=actor, person=person, action="identifier.unlinked", system=system)


@transaction.atomic
def create_organisation(
    *,
    name: str,
    kind: str,
    actor: User | None,
    name_en: str = "",
    patient_number_system: str | None = None,
    is_operator: bool = False,
) -> Organisation:
    if kind not in OrganisationKind.values:
        raise ValueError(f"unknown organisation kind {kind!r}")
    organisation = Organisation.objects.create(
        name=name,
        name_en=name_en,
        kind=kind,
        patient_number_system=patient_number_system,
        is_operator=is_operator,
    )
    record_audit(actor=actor, person=None, action="organisation.created", organisation=str(organisation.id))
    return organisation


def _authorise(actor: User | None, action: Action, *, organisation: Organisation | None = None) -> None:
    """``actor`` None is the system itself (seed data, migrations, the grant_role command): no web path passes
    None, since every view passes the signed-in user."""
    if actor is not None:
        roles.require(actor, action, organisation=organisation)


@transaction.atomic
def add_membership(
    *, user: User, organisation: Organisation, role: str, actor: User | None, reason: str = "", run_by: str = ""
) -> Membership:
    """Give ``user`` a role in ``organisation``.

    A role in the operator organisation holds everywhere, and break-glass opens any record: those are given by
    the system alone (``actor`` None: the grant_role command or seed data), never from a web page. Other roles
    need an actor the policy lets manage the organisation's memberships. ``run_by`` names the operating-system
    account that ran a command, for the audit event.
    """
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}")
    if role == Role.OPERATOR_ADMIN and not organisation.is_operator:
        raise ValueError("operator administrators belong to the operator organisation")
    _authorise(actor, Action.MANAGE_MEMBERSHIPS, organisation=organisation)
    if actor is not None and (organisation.is_operator or role in roles.PRIVILEGED_ROLES):
        raise roles.NotAllowed(_("Operator roles and emergency access are granted with the grant_role command."))
    membership, created = Membership.objects.get_or_create(user=user, organisation=organisation, role=role)
    if role == Role.OPERATOR_ADMIN:
        _open_read_only_admin(user)
    if created:
        record_audit(
            actor=actor,
            person=None,
            action="membership.added",
            user=user.pk,
            organisation=str(organisation.id),
            role=role,
            reason=reason,
            run_by=run_by,
        )
    return membership


@transaction.atomic
def remove_membership(*, membership: Membership, actor: User | None, reason: str = "", run_by: str = "") -> None:
    """Take a role away, by the same rules as giving it; one who no longer administers the operator also
    loses the read-only admin."""
    organisation, user, role = membership.organisation, membership.user, membership.role
    _authorise(actor, Action.MANAGE_MEMBERSHIPS, organisation=organisation)
    if actor is not None and (organisation.is_operator or role in roles.PRIVILEGED_ROLES):
        raise roles.NotAllowed(_("Operator roles and emergency access are taken away with the grant_role command."))
    deleted, _counts = Membership.objects.filter(pk=membership.pk).delete()
    if not deleted:
        return
    if role == Role.OPERATOR_ADMIN and not user.memberships.filter(role=Role.OPERATOR_ADMIN).exists():
        _close_read_only_admin(user)
    record_audit(
        actor=actor,
        person=None,
        action="membership.removed",
        user=user.pk,
        organisation=str(organisation.id),
        role=role,
        reason=reason,
        run_by=run_by,
    )


@transaction.atomic
def set_superuser(*, user: User, superuser: bool, reason: str, run_by: str) -> User:
    """Make ``user`` a Django superuser or take it away; the system alone does this (the grant_role command).

    A superuser gains nothing in Mamori's pages (the role policy ignores the flag) but reads the whole admin.
    ``run_by`` names who ran the command (the operating-system account), for the audit event.
    """
    if not reason.strip():
        raise ValueError("a reason is required")
    user.is_superuser = superuser
    user.is_staff = superuser or user.memberships.filter(role=Role.OPERATOR_ADMIN).exists()
    user.save(update_fields=["is_superuser", "is_staff"])
    record_audit(
        actor=None,
        person=None,
        action="user.superuser_granted" if superuser else "user.superuser_revoked",
        user=user.pk,
        reason=reason.strip(),
        run_by=run_by,
    )
    return user


OPERATOR_ADMIN_GROUP = "Operator administrators"
OPERATOR_ADMIN_APPS = ("phr", "consent", "django_celery_beat", "account")


def operator_admin_group() -> Group:
    """The Django admin permissions of operator administrators: to view the project's apps and the scheduler.

    View only: the admin is read-only (phr/admin_site.py); every change goes through a staff page."""
    group, _created = Group.objects.get_or_create(name=OPERATOR_ADMIN_GROUP)
    permissions = Permission.objects.filter(
        content_type__app_label__in=OPERATOR_ADMIN_APPS, codename__startswith="view_"
    )
    group.permissions.set(permissions)
    return group


def _open_read_only_admin(user: User) -> None:
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user.groups.add(operator_admin_group())


def _close_read_only_admin(user: User) -> None:
    user.groups.remove(operator_admin_group())
    if user.is_staff and not user.is_superuser:
        user.is_staff = False
        user.save(update_fields=["is_staff"])


def _start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@transaction.atomic
def grant_proxy(
    *,
    person: Person,
    proxy_user: User,
    scope: str,
    legal_basis: str,
    evidence: str,
    actor: User | None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> Proxy:
    """Grant a proxy. Parental authority ends at the child's 16th birthday, when the child decides.

    ``actor`` must be allowed to record proxies (an operator administrator, after checking the evidence);
    None is the system (seed data)."""
    _authorise(actor, Action.GRANT_PROXY)
    valid_from = valid_from or timezone.now()
    if person.user_id is not None and person.user_id == proxy_user.pk:
        raise ProxyNotAllowed(_("A person cannot be their own proxy."))
    if not evidence.strip():
        raise ProxyNotAllowed(_("Record the evidence that was checked."))
    if scope not in ProxyScope.values or legal_basis not in LegalBasis.values:
        raise ProxyNotAllowed(_("Choose a scope and a legal basis."))
    if legal_basis == LegalBasis.PARENTAL:
        birthday = person.birth_date
        if birthday.month == 2 and birthday.day == 29:
            limit = _start_of_day(date(birthday.year + CHILD_PROXY_AGE_LIMIT, 3, 1))
        else:
            limit = _start_of_day(birthday.replace(year=birthday.year + CHILD_PROXY_AGE_LIMIT))
        # Not from a start date chosen in the past either: a person of 16 or more decides for themselves.
        if valid_from >= limit or timezone.now() >= limit:
            raise ProxyNotAllowed(_("Parental authority applies only to children under 16."))
        valid_until = min(valid_until, limit) if valid_until else limit
    if valid_until is not None and valid_until <= valid_from:
        raise ProxyNotAllowed(_("A proxy must end after it starts."))
    proxy = Proxy.objects.create(
        person=person,
        proxy_user=proxy_user,
        scope=scope,
        legal_basis=legal_basis,
        evidence=evidence,
        valid_from=valid_from,
        valid_until=valid_until,
        created_by=actor,
    )
    record_audit(
        actor=actor, person=person, action="proxy.granted", proxy=str(proxy.id), scope=scope, legal_basis=legal_basis
    )
    return proxy


@transaction.atomic
def revoke_proxy(*, proxy: Proxy, actor: User) -> Proxy:
    locked = Proxy.objects.select_for_update().get(pk=proxy.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor
        locked.save(update_fields=["revoked_at", "revoked_by"])
        record_audit(actor=actor, person=locked.person, action="proxy.revoked", proxy=str(locked.id))
    return locked


def default_proxy_end(days: int = 365) -> datetime:
    return timezone.now() + timedelta(days=days)
