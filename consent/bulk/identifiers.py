"""Hospital identifiers (``system|value``) to persons, set-based: one query per chunk, never one per person.

A caller may name persons by its own patient-number system or by the national linkage system
(``settings.MAMORI_LINKAGE_SYSTEM``); another hospital's numbers are refused, so that no organisation
can probe who is registered at another.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

from consent.linkage import Caller, linked_identifiers
from phr.crypto.blind_index import blind_index, normalise_identifier_value
from phr.models import Identifier, Organisation

CHUNK = 2000
MAX_VALUE_LENGTH = 255


@dataclass(frozen=True)
class IdentifierRef:
    """An identifier as a caller wrote it: a system URI and a value."""

    system: str
    value: str

    def __str__(self) -> str:
        return f"{self.system}|{self.value}"

    def to_wire(self) -> dict[str, str]:
        return {"system": self.system, "value": self.value}


class InvalidIdentifier(ValueError):
    """The identifier is malformed, or in a system the caller may not use."""


def accepted_systems(organisation: Organisation | None) -> frozenset[str]:
    """The systems ``organisation`` may name persons by: its patient numbers and the linkage system."""
    systems = {settings.MAMORI_LINKAGE_SYSTEM}
    if organisation is not None and organisation.patient_number_system:
        systems.add(organisation.patient_number_system)
    return frozenset(systems)


def checked(system: object, value: object, accepted: frozenset[str]) -> IdentifierRef:
    """An identifier from its parts, raising InvalidIdentifier with the reason when it cannot be used."""
    if not isinstance(system, str) or not system:
        raise InvalidIdentifier("The identifier needs a system.")
    normalised = normalise_identifier_value(value) if isinstance(value, str) else ""
    if not isinstance(value, str) or not normalised:
        raise InvalidIdentifier("The identifier needs a value.")
    if len(value) > MAX_VALUE_LENGTH or "\n" in value or "\r" in value:
        raise InvalidIdentifier("The identifier value is too long or spans lines.")
    if system not in accepted:
        raise InvalidIdentifier("The identifier system is neither your patient-number system nor the linkage system.")
    return IdentifierRef(system, normalised)


def parse_token(text: str, accepted: frozenset[str]) -> IdentifierRef:
    """``SYSTEM|VALUE`` (the FHIR token form) to an identifier; the value may itself hold ``|``."""
    system, bar, value = text.partition("|")
    if not bar:
        raise InvalidIdentifier("The identifier must be written SYSTEM|VALUE.")
    return checked(system, value, accepted)


def person_ids_for(refs: Sequence[IdentifierRef], caller: Caller) -> list[uuid.UUID | None]:
    """The person each identifier names (None when nobody holds it, or its person is not linked to
    ``caller``: :mod:`consent.linkage`), in input order.

    The unique index is (system, blind index): both are given so that each identifier is one index probe.
    """
    result: list[uuid.UUID | None] = []
    for start in range(0, len(refs), CHUNK):
        chunk = refs[start : start + CHUNK]
        keys = [(ref.system, blind_index(ref.system, ref.value)) for ref in chunk]
        rows = (
            Identifier.objects.filter(
                system__in={system for system, _ in keys}, blind_index__in={index for _, index in keys}
            )
            .filter(linked_identifiers(caller))
            .values_list("system", "blind_index", "person_id")
        )
        found = {(system, index): person_id for system, index, person_id in rows}
        result.extend(found.get(key) for key in keys)
    return result
