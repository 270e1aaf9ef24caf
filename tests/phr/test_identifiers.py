"""Identifiers: found by blind index, unique per system, never logged or shown in clear to others."""

from __future__ import annotations

import pytest

from phr import services
from phr.errors import IdentifierAlreadyLinked
from phr.models import AuditEvent, Person
from phr.selectors import identifiers_of, person_by_identifier


def test_a_person_is_found_by_system_and_value(alice: Person, bob: Person) -> None:
    services.link_identifier(person=alice, system="urn:h1", value="0001", actor=None)
    services.link_identifier(person=bob, system="urn:h1", value="0002", actor=None)
    assert person_by_identifier("urn:h1", "0001") == alice
    assert person_by_identifier("urn:h1", "0002") == bob


def test_the_same_value_in_another_system_is_someone_else(alice: Person, bob: Person) -> None:
    services.link_identifier(person=alice, system="urn:h1", value="0001", actor=None)
    services.link_identifier(person=bob, system="urn:h2", value="0001", actor=None)
    assert person_by_identifier("urn:h2", "0001") == bob
    assert person_by_identifier("urn:h3", "0001") is None


def test_full_width_digits_find_the_same_person(alice: Person) -> None:
    services.link_identifier(person=alice, system="urn:h1", value="１２３４５", actor=None)
    assert person_by_identifier("urn:h1", "12345") == alice
    assert [i.value for i in identifiers_of(alice)] == ["12345"]


def test_an_identifier_cannot_be_linked_to_two_people(alice: Person, bob: Person) -> None:
    services.link_identifier(person=alice, system="urn:h1", value="0001", actor=None)
    with pytest.raises(IdentifierAlreadyLinked):
        services.link_identifier(person=bob, system="urn:h1", value="0001", actor=None)
    assert person_by_identifier("urn:h1", "0001") == alice


def test_linking_is_audited_without_the_value(alice: Person) -> None:
    services.link_identifier(person=alice, system="urn:h1", value="SECRET-42", actor=None)
    event = AuditEvent.objects.get(action="identifier.linked")
    assert event.person == alice
    assert "SECRET-42" not in str(event.detail)


def test_audit_events_cannot_be_changed_or_deleted(alice: Person) -> None:
    event = AuditEvent.objects.filter(person=alice).first()
    assert event is not None
    event.action = "tampered"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
