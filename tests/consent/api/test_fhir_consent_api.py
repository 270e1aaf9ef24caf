"""Contract of /fhir/r4/metadata and /fhir/r4/Consent: R4 resources that validate with fhir.resources.R4B."""

from __future__ import annotations

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from tests.consent.api.hospital import (
    HOSPITAL_SYSTEM,
    OTHER_SYSTEM,
    accept,
    assert_problem,
    auth,
    bearer,
    hospital,
    other_hospital,
    patients,
)

__all__ = ["auth", "hospital", "other_hospital", "patients"]

URL = "/fhir/r4/Consent"


def search(client, headers, identifier):
    return client.get(URL, {"patient.identifier": identifier}, headers=headers)


def test_metadata_is_a_valid_capability_statement(client):
    response = client.get("/fhir/r4/metadata")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    statement = CapabilityStatement.model_validate(response.json())
    assert statement.fhirVersion == "4.0.1"


def test_it_returns_a_valid_searchset_of_the_persons_consents(client, auth, patients, study):
    accept(patients["alice"], study)
    response = search(client, auth, f"{HOSPITAL_SYSTEM}|P-0001")
    assert response.status_code == 200, response.content
    bundle = Bundle.model_validate(response.json())
    assert bundle.type == "searchset"
    assert bundle.total == 4
    for entry in bundle.entry or []:
        resource = entry.resource
        assert resource.get_resource_type() == "Consent"
        assert resource.patient.identifier.system == HOSPITAL_SYSTEM
        assert resource.patient.identifier.value == "P-0001"
    assert str(study.pk) in response.content.decode()


def test_it_returns_an_empty_bundle_for_an_unknown_person(client, auth, patients):
    body = search(client, auth, f"{HOSPITAL_SYSTEM}|P-404").json()
    assert Bundle.model_validate(body).total == 0


def test_it_refuses_a_malformed_identifier(client, auth):
    assert_problem(search(client, auth, "nobar"), 400)


def test_it_refuses_another_hospitals_numbers(client, auth, other_hospital):
    assert_problem(search(client, auth, f"{OTHER_SYSTEM}|P-0001"), 400)


def test_it_needs_the_consent_read_scope(client, hospital, patients):
    body = assert_problem(search(client, bearer(hospital, "consent.check"), f"{HOSPITAL_SYSTEM}|P-0001"), 403)
    assert "system/Consent.rs" in body["detail"]


def test_it_needs_a_token(client, patients):
    assert_problem(search(client, {}, f"{HOSPITAL_SYSTEM}|P-0001"), 401)
