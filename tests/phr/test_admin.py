"""The admin: an operator administrator configures FHIR endpoints; encrypted values never appear."""

from __future__ import annotations

from django.test import Client

from phr import services
from phr.models import FhirEndpoint, Organisation, Person, User
from tests.conftest import sign_in_with_totp


def test_an_operator_admin_configures_a_fhir_endpoint(client: Client, erin: User, hospital: Organisation) -> None:
    sign_in_with_totp(client, erin.email)
    response = client.post(
        "/admin/phr/fhirendpoint/add/",
        {
            "organisation": hospital.pk,
            "name": "東都大学病院 FHIR",
            "base_url": "https://fhir.toto-hospital.example/r4",
            "auth_mode": "backend_services",
            "client_id": "mamori",
            "client_secret_file": "",
            "private_key_file": "/run/secrets/toto.pem",
            "key_id": "k1",
            "signing_alg": "RS384",
            "scope_style": "v2",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert FhirEndpoint.objects.get().base_url == "https://fhir.toto-hospital.example/r4"


def test_identifier_values_are_not_shown_in_the_admin(client: Client, erin: User, alice: Person) -> None:
    identifier = services.link_identifier(person=alice, system="urn:h1", value="SECRET-4711", actor=None)
    sign_in_with_totp(client, erin.email)
    for path in ("/admin/phr/identifier/", f"/admin/phr/identifier/{identifier.pk}/change/", "/admin/phr/syncrun/"):
        response = client.get(path)
        assert response.status_code == 200
        assert "SECRET-4711" not in response.content.decode()
