"""Reads of parties: lookups by identifier, linked identifiers in clear, proxies, staff roles."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from phr.crypto.blind_index import blind_index
from phr.crypto.datakeys import decrypt
from phr.models import AuditEvent, Identifier, Membership, Person, Proxy, User
from phr.services import identifier_context


@dataclass(frozen=True)
class ClearIdentifier:
    system: str
    value: str
    system_label: str


def person_by_identifier(system: str, value: str) -> Person | None:
    identifier = (
        Identifier.objects.select_related("person")
        .filter(system=system, blind_index=blind_index(system, value))
        .first()
    )
    return identifier.person if identifier else None


def identifiers_of(person: Person) -> list[ClearIdentifier]:
    from phr.models import Organisation

    identifiers = list(person.identifiers.order_by("system"))
    labels = dict(
        Organisation.objects.filter(patient_number_system__in=[i.system for i in identifiers]).values_list(
            "patient_number_system", "name"
        )
    )
    return [
        ClearIdentifier(
            system=identifier.system,
            value=decrypt(bytes(identifier.value_encrypted), context=identifier_context(identifier.id)).decode(),
            system_label=labels.get(identifier.system, identifier.system),
        )
        for identifier in identifiers
    ]


def proxies_granted(person: Person) -> QuerySet[Proxy]:
    return person.proxies.select_related("proxy_user").order_by("-valid_from")


def proxies_acting_for(user: User) -> QuerySet[Proxy]:
    return Proxy.objects.active().filter(proxy_user=user).select_related("person").order_by("person__family_name_kana")


def memberships_of(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organisation").order_by("organisation__name", "role")


def recent_audit_events(person: Person, limit: int = 20) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(person=person).select_related("actor")[:limit]
