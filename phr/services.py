"""Writes to parties, identifiers, memberships and proxies. Each is atomic and leaves an audit event."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from phr.crypto.blind_index import blind_index, normalise_identifier_value
from phr.crypto.datakeys import encrypt_for_person
from phr.errors import IdentifierAlreadyLinked, ProxyNotAllowed
from phr.models import AuditEvent, Identifier, Membership, Organisation, Person, Proxy, User
from phr.models.parties import LegalBasis, OrganisationKind, Role

CHILD_PROXY_AGE_LIMIT = 16


def identifier_context(identifier_id: object) -> str:
    return f"phr.identifier.value:{identifier_id}"


def record_audit(*, actor: User | None, person: Person | None, action: str, **detail: Any) -> AuditEvent:
    return AuditEvent.objects.create(actor=actor, person=person, action=action, detail=detail)


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


@transaction.atomic
def link_identifier(*, person: Person, system: str, value: str, actor: User | None) -> Identifier:
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
def unlink_identifier(*, identifier: Identifier, actor: User) -> None:
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


@transaction.atomic
def add_membership(*, user: User, organisation: Organisation, role: str, actor: User | None) -> Membership:
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}")
    if role == Role.OPERATOR_ADMIN and not organisation.is_operator:
        raise ValueError("operator administrators belong to the operator organisation")
    membership, _created = Membership.objects.get_or_create(user=user, organisation=organisation, role=role)
    if role == Role.OPERATOR_ADMIN:
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        user.groups.add(operator_admin_group())
    record_audit(
        actor=actor, person=None, action="membership.added", user=user.pk, organisation=str(organisation.id), role=role
    )
    return membership


OPERATOR_ADMIN_GROUP = "Operator administrators"
OPERATOR_ADMIN_APPS = ("phr", "consent", "django_celery_beat", "account")


def operator_admin_group() -> Group:
    """The Django admin permissions of operator administrators: the project's apps and the scheduler."""
    group, _created = Group.objects.get_or_create(name=OPERATOR_ADMIN_GROUP)
    permissions = Permission.objects.filter(content_type__app_label__in=OPERATOR_ADMIN_APPS)
    group.permissions.add(*permissions)
    return group


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
    """Grant a proxy. Parental authority ends at the child's 16th birthday, when the child decides."""
    valid_from = valid_from or timezone.now()
    if person.user_id is not None and person.user_id == proxy_user.pk:
        raise ProxyNotAllowed(_("A person cannot be their own proxy."))
    if not evidence.strip():
        raise ProxyNotAllowed(_("Record the evidence that was checked."))
    if legal_basis == LegalBasis.PARENTAL:
        birthday = person.birth_date
        limit = _start_of_day(birthday.replace(year=birthday.year + CHILD_PROXY_AGE_LIMIT))
        if birthday.month == 2 and birthday.day == 29:
            limit = _start_of_day(date(birthday.year + CHILD_PROXY_AGE_LIMIT, 3, 1))
        if valid_from >= limit:
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
