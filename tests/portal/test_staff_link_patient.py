"""The operator's form that links a person to their patient number at a hospital: every refusal is shown in
the form, and a refused link leaves nothing behind."""

from __future__ import annotations

from django.conf import settings
from django.test import Client

from phr import services
from phr.models import Connection, FhirEndpoint, Identifier, Organisation, Person, User
from phr.models.fhir import AuthMode
from tests.conftest import sign_in_with_totp

PATIENT_NUMBER = "12345678"


def _endpoint(hospital: Organisation) -> FhirEndpoint:
    return FhirEndpoint.objects.create(
        organisation=hospital, name="backend", base_url="https://fhir.hospital.example/r4",
        auth_mode=AuthMode.BACKEND_SERVICES, client_id="mamori",
    )  # fmt: skip


def test_a_patient_number_already_linked_to_someone_else_is_refused_in_the_form(
    client: Client, erin: User, alice: Person, bob: Person, hospital: Organisation
) -> None:
    assert hospital.patient_number_system is not None
    services.link_identifier(person=alice, system=hospital.patient_number_system, value=PATIENT_NUMBER, actor=None)
    services.link_identifier(person=bob, system=settings.MAMORI_LINKAGE_SYSTEM, value="MMR0000002", actor=None)
    endpoint = _endpoint(hospital)
    sign_in_with_totp(client, erin.email)

    response = client.post(
        "/staff/connections/link/",
        {"linkage_id": "MMR0000002", "endpoint": str(endpoint.pk), "patient_number": PATIENT_NUMBER},
        headers={"Accept-Language": "en"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["patient_number"] == [
        "This identifier is already linked, or the person already has one in this system."
    ]
    assert "already linked" in response.content.decode()
    assert not Connection.objects.filter(person=bob).exists()
    assert not Identifier.objects.filter(person=bob, system=hospital.patient_number_system).exists()
