"""The critical finding of issue 11, as it was sent: an endpoint on a loopback or private address, or one whose
discovery names such an address for its token or authorize URL, is refused, and no secret ever reaches it.

The "attacker's" servers are real HTTP servers on loopback that record every byte they receive.
"""

from __future__ import annotations

import base64

import pytest
from django.test import Client
from django.utils import timezone

from phr.fhir import backend_services, discovery, smart_launch
from phr.fhir.endpoints import EndpointRefused, create_endpoint, set_endpoint_secret
from phr.fhir.errors import DestinationRefused
from phr.fhir.http import FhirHttp
from phr.fhir.retry import RetryPolicy
from phr.fhir.services import link_hospital_patient
from phr.fhir.sync import SyncOptions, run_sync
from phr.models import FhirEndpoint, Organisation, Person, User
from phr.models.fhir import AuthMode
from phr.models.records import SyncRunStatus
from tests.conftest import sign_in
from tests.phr.fhir.conftest import allow_origin
from tests.phr.fhir.recording_server import RecordingServer, recorder, second_recorder

__all__ = ["recorder", "second_recorder"]

pytestmark = pytest.mark.django_db

SECRET = "hospital-client-secret-4f1c9a"
CLIENT_ID = "mamori"
OPTIONS = SyncOptions(policy=RetryPolicy(attempts=1, sleep=lambda seconds: None))
CAPABILITY = {
    "resourceType": "CapabilityStatement",
    "status": "active",
    "kind": "instance",
    "fhirVersion": "4.0.1",
    "format": ["json"],
    "rest": [{"mode": "server"}],
}


def basic_credentials() -> str:
    return base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()


def assert_no_secret_reached(*servers: RecordingServer) -> None:
    for server in servers:
        assert not server.anything_with(SECRET)
        assert not server.anything_with(basic_credentials())
        assert not any("Authorization" in r.headers for r in server.received)


def hospital_server(server: RecordingServer, *, token_url: str = "", authorize_url: str = "") -> None:
    server.json("/fhir/metadata", CAPABILITY)
    smart = {"capabilities": ["permission-v2"]}
    if token_url:
        smart["token_endpoint"] = token_url  # type: ignore[assignment]
    if authorize_url:
        smart["authorization_endpoint"] = authorize_url  # type: ignore[assignment]
    server.json("/fhir/.well-known/smart-configuration", smart)


def endpoint_at(hospital: Organisation, base_url: str, *, auth_mode: str = AuthMode.BACKEND_SERVICES) -> FhirEndpoint:
    """An endpoint row as the old Django admin could write it (no check), with a client secret entered."""
    endpoint = FhirEndpoint.objects.create(
        organisation=hospital, name="evil", base_url=base_url, auth_mode=auth_mode, client_id=CLIENT_ID
    )
    return set_endpoint_secret(actor=None, endpoint=endpoint, client_secret=SECRET)


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:{port}/fhir",
        "https://127.0.0.1:{port}/fhir",
        "https://[::1]/fhir",
        "https://[::ffff:127.0.0.1]/fhir",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.7/fhir",
        "https://172.16.0.7/fhir",
        "https://192.168.0.7/fhir",
        "https://0.0.0.0/fhir",
        "http://fhir.hospital.example.jp/r4",
    ],
)
def test_the_service_refuses_an_endpoint_mamori_may_not_call(
    erin: User, hospital: Organisation, recorder: RecordingServer, base_url: str
) -> None:
    with pytest.raises(EndpointRefused) as refused:
        create_endpoint(
            actor=erin,
            organisation=hospital,
            name="evil",
            base_url=base_url.format(port=recorder.port),
            auth_mode=AuthMode.BACKEND_SERVICES,
            client_id=CLIENT_ID,
        )
    assert refused.value.field == "base_url"
    assert not FhirEndpoint.objects.exists()
    assert recorder.received == []


def test_a_loopback_endpoint_stored_before_the_policy_is_never_contacted_when_a_patient_is_linked_and_synced(
    alice: Person, erin: User, hospital: Organisation, recorder: RecordingServer
) -> None:
    hospital_server(recorder, token_url=f"{recorder.origin}/token")
    endpoint = endpoint_at(hospital, f"{recorder.origin}/fhir")
    connection = link_hospital_patient(person=alice, endpoint=endpoint, patient_number="10001", actor=erin)

    run = run_sync(connection.id, options=OPTIONS)

    assert run is not None and run.status == SyncRunStatus.FAILED
    assert "refused by the outbound policy" in run.error
    assert recorder.received == []


@pytest.mark.parametrize(
    "token_url",
    [
        "{other}/token",  # another loopback server, not allowed
        "https://127.0.0.1:{port}/token",
        "https://169.254.169.254/latest/api/token",
        "https://10.0.0.8/oauth/token",
        "https://[::ffff:127.0.0.1]:{port}/token",
        "https://localhost:{port}/token",
        "http://hospital-auth.example.jp/token",
    ],
)
def test_a_token_url_on_a_private_address_named_by_discovery_gets_no_secret(
    alice: Person,
    erin: User,
    hospital: Organisation,
    recorder: RecordingServer,
    second_recorder: RecordingServer,
    settings,
    token_url: str,
) -> None:
    allow_origin(settings, recorder.origin)  # the hospital's own server is allowed; the address it names is not
    hospital_server(recorder, token_url=token_url.format(other=second_recorder.origin, port=second_recorder.port))
    endpoint = endpoint_at(hospital, f"{recorder.origin}/fhir")
    connection = link_hospital_patient(person=alice, endpoint=endpoint, patient_number="10002", actor=erin)

    run = run_sync(connection.id, options=OPTIONS)

    assert run is not None and run.status == SyncRunStatus.FAILED
    assert "token endpoint Mamori may not call" in run.error
    assert second_recorder.received == []
    assert_no_secret_reached(recorder, second_recorder)


def test_a_private_token_url_already_cached_from_an_earlier_discovery_gets_no_secret(
    alice: Person, erin: User, hospital: Organisation, recorder: RecordingServer, second_recorder: RecordingServer,
    settings,
) -> None:  # fmt: skip
    allow_origin(settings, recorder.origin)
    hospital_server(recorder)
    endpoint = endpoint_at(hospital, f"{recorder.origin}/fhir")
    FhirEndpoint.objects.filter(pk=endpoint.pk).update(
        capability=CAPABILITY,
        smart_configuration={"token_endpoint": f"{second_recorder.origin}/token"},
        capabilities_fetched_at=timezone.now(),
    )
    connection = link_hospital_patient(person=alice, endpoint=endpoint, patient_number="10003", actor=erin)

    run = run_sync(connection.id, options=OPTIONS)

    assert run is not None and run.status == SyncRunStatus.FAILED
    assert second_recorder.received == []
    assert_no_secret_reached(recorder, second_recorder)


def test_an_allowed_token_url_does_get_the_secret(hospital: Organisation, recorder: RecordingServer, settings) -> None:
    """The control: the refusals above are the policy's doing, not a secret that is never sent."""
    allow_origin(settings, recorder.origin)
    hospital_server(recorder, token_url=f"{recorder.origin}/token")
    recorder.json("/token", {"access_token": "system-token", "expires_in": 300})
    endpoint = endpoint_at(hospital, f"{recorder.origin}/fhir")
    discovery.refresh_capabilities(endpoint)

    with FhirHttp(base_url=endpoint.base_url) as http:
        assert backend_services.system_token(endpoint, http=http) == "system-token"

    [token_request] = [r for r in recorder.received if r.path == "/token"]
    assert token_request.headers["Authorization"] == f"Basic {basic_credentials()}"


@pytest.mark.parametrize(
    "authorize_url", ["https://192.168.1.1/authorize", "https://[fe80::1]/authorize", "https://localhost/authorize"]
)
def test_a_person_is_never_sent_to_a_private_authorize_url(
    alice: Person, hospital: Organisation, recorder: RecordingServer, settings, authorize_url: str
) -> None:
    allow_origin(settings, recorder.origin)
    hospital_server(recorder, token_url=f"{recorder.origin}/token", authorize_url=authorize_url)
    endpoint = FhirEndpoint.objects.create(
        organisation=hospital,
        name="patient access",
        base_url=f"{recorder.origin}/fhir",
        auth_mode=AuthMode.SMART_PATIENT,
        client_id=CLIENT_ID,
    )
    with pytest.raises(DestinationRefused):
        smart_launch.begin({}, endpoint=endpoint, person=alice, redirect_uri="https://mamori.example/cb")

    client = Client()
    sign_in(client, alice.user.email)
    response = client.post(f"/me/connections/connect/{endpoint.pk}/")

    assert response.status_code == 302
    assert authorize_url.split("/authorize")[0] not in response["Location"]


def test_a_redirect_to_another_origin_during_sync_is_not_followed(
    alice: Person, erin: User, hospital: Organisation, recorder: RecordingServer, second_recorder: RecordingServer,
    settings,
) -> None:  # fmt: skip
    allow_origin(settings, recorder.origin)
    allow_origin(settings, second_recorder.origin)  # even an allowed origin is not reached by a redirect
    recorder.redirect("/fhir/metadata", f"{second_recorder.origin}/fhir/metadata")
    second_recorder.json("/fhir/metadata", CAPABILITY)
    endpoint = endpoint_at(hospital, f"{recorder.origin}/fhir")
    connection = link_hospital_patient(person=alice, endpoint=endpoint, patient_number="10004", actor=erin)

    run = run_sync(connection.id, options=OPTIONS)

    assert run is not None and run.status == SyncRunStatus.FAILED
    assert "redirected to another origin" in run.error
    assert second_recorder.received == []


def test_an_oversized_answer_fails_the_run_with_a_clear_error(
    alice: Person, erin: User, hospital: Organisation, recorder: RecordingServer, settings
) -> None:
    allow_origin(settings, recorder.origin)
    settings.MAMORI_OUTBOUND_MAX_BYTES = 10_000
    recorder.big("/fhir/metadata", 500_000, chunked=True)
    endpoint = endpoint_at(hospital, f"{recorder.origin}/fhir")
    connection = link_hospital_patient(person=alice, endpoint=endpoint, patient_number="10005", actor=erin)

    run = run_sync(connection.id, options=OPTIONS)

    assert run is not None and run.status == SyncRunStatus.FAILED
    assert run.error == "refused by the outbound policy: 127.0.0.1 answered with more than 10000 bytes."
