"""The admin: encrypted values never appear (that it writes nothing: test_admin_read_only.py)."""

from __future__ import annotations

from django.test import Client

from phr import services
from phr.models import Person, User
from tests.conftest import sign_in_with_totp


def test_identifier_values_are_not_shown_in_the_admin(client: Client, erin: User, alice: Person) -> None:
    identifier = services.link_identifier(person=alice, system="urn:h1", value="SECRET-4711", actor=None)
    sign_in_with_totp(client, erin.email)
    for path in ("/admin/phr/identifier/", f"/admin/phr/identifier/{identifier.pk}/change/", "/admin/phr/syncrun/"):
        response = client.get(path)
        assert response.status_code == 200
        assert "SECRET-4711" not in response.content.decode()
