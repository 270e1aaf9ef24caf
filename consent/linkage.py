"""Which persons an organisation is linked to: the only persons its API clients get answers about.

EHDS Art 8 (DESIGN §6): that a person restricted the use of their data must not be visible to a care
provider that has nothing to do with them, nor may a hospital learn who is registered at all by probing
national linkage ids. A person is linked to an organisation when they hold an identifier in its
patient-number system (a hospital link, :func:`phr.fhir.services.link_hospital_patient`, creates one), or
when they keep a connection (not revoked) to one of its FHIR endpoints. Every other identifier, a valid
linkage id included, is answered as an unknown one.

The rule is written twice because the paths that read it are: a SQL predicate (the single-decision
function of migration 0011, the batch statement, the bulk check's join, SQLite's single decision) and an
ORM filter (the SQLite batch and bulk paths, the FHIR Consent search).
``tests/consent/api/test_hospital_visibility.py`` holds every path to the same answers, on SQLite and
PostgreSQL. An identifier in the caller's own patient-number system needs no check: those paths (the
hospital's everyday ones) run the statements they ran before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q

from phr.models import Connection, Identifier, Organisation
from phr.models.fhir import ConnectionStatus


@dataclass(frozen=True, slots=True)
class Caller:
    """The organisation asking: its id and its patient-number system (None when it has none)."""

    organisation_id: Any
    system: str | None

    @classmethod
    def of(cls, organisation: Organisation) -> Caller:
        return cls(organisation.pk, organisation.patient_number_system or None)


def is_own(caller: Caller, system: str) -> bool:
    """Whether ``system`` is the caller's own patient-number system: its identifiers are linked by themselves,
    and the paths that read one check nothing more (the common case costs what it cost before the rule)."""
    return caller.system is not None and system == caller.system


def linked_sql(person: str) -> str:
    """A SQL predicate: the person in column ``person`` holds an identifier in the caller's patient-number
    system, or a connection (not revoked) to one of its FHIR endpoints. Parameters: :func:`linked_params`."""
    return (
        f"(EXISTS (SELECT 1 FROM phr_identifier own WHERE own.person_id = {person} AND own.system = %s)"  # noqa: S608 - column names from code; values are parameters
        " OR EXISTS (SELECT 1 FROM phr_connection c JOIN phr_fhirendpoint e ON e.id = c.endpoint_id"
        f" WHERE c.person_id = {person} AND e.organisation_id = %s AND c.status <> '{ConnectionStatus.REVOKED}'))"
    )


def linked_params(caller: Caller) -> list[Any]:
    """The parameters of :func:`linked_sql`, as the database stores them (SQLite: UUIDs as 32 hex digits)."""
    assert Organisation._meta.pk is not None
    return [caller.system, Organisation._meta.pk.get_db_prep_value(caller.organisation_id, connection)]


def own_or_linked_sql(person: str, system: str) -> str:
    """:func:`linked_sql` for identifiers of any system (column ``system``): one of the caller's own is linked
    without a probe (the CASE keeps the subqueries from running: a bulk check of a million patient numbers
    probes nothing more). Parameters: :func:`own_or_linked_params`."""
    return f"(CASE WHEN {system} = %s THEN TRUE ELSE {linked_sql(person)} END)"


def own_or_linked_params(caller: Caller) -> list[Any]:
    return [caller.system, *linked_params(caller)]


def linked_identifiers(caller: Caller) -> Q:
    """An ORM filter on :class:`phr.models.Identifier`: identifiers of persons linked to the caller."""
    linked = Q(person_id__in=linked_connections(caller))
    if caller.system:
        linked |= Q(system=caller.system) | Q(person_id__in=own_identifiers(caller.system))
    return linked


def own_identifiers(system: str) -> Any:
    return Identifier.objects.filter(system=system).values("person_id")


def linked_connections(caller: Caller) -> Any:
    return (
        Connection.objects.filter(endpoint__organisation_id=caller.organisation_id)
        .exclude(status=ConnectionStatus.REVOKED)
        .values("person_id")
    )
