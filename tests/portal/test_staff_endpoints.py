"""The staff page for FHIR endpoints (/staff/endpoints/): addresses Mamori would refuse to call are errors in
the form, a secret is entered once, stored encrypted and never shown again, and there is no path to a file."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from phr.fhir import credentials
from phr.fhir.endpoints import create_endpoint, set_endpoint_secret
from phr.models import AuditEvent, FhirEndpoint, Organisation, Person, User
from phr.models.fhir import AuthMode
from portal.views.staff_endpoints import BASE_URL_MESSAGES
from tests.conftest import PASSWORD, sign_in, sign_in_with_totp

pytestmark = pytest.mark.django_db

SECRET = "s3cret-of-the-hospital-8d2b"
GOOD_URL = "https://fhir.toto-hospital.example.jp/r4"


def staff_client(user: User) -> Client:
    """Signed in with TOTP and the password confirmed again, as the endpoint pages ask."""
    client = Client()
    sign_in_with_totp(client, user.email)
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def new_endpoint_form(hospital: Organisation, base_url: str, **extra: str) -> dict[str, str]:
    return {
        "organisation": str(hospital.pk),
        "name": "東都大学病院 FHIR",
        "base_url": base_url,
        "auth_mode": AuthMode.BACKEND_SERVICES,
        "client_id": "mamori",
        "key_id": "",
        "signing_alg": "RS384",
        "scope_style": "v2",
        **extra,
    }


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.mark.parametrize(
    ("base_url", "code"),
    [
        ("http://127.0.0.1:6379/", "scheme"),
        ("https://127.0.0.1/fhir", "private"),
        ("https://169.254.169.254/latest/meta-data/", "private"),
        ("https://[::1]/fhir", "private"),
        ("https://[::ffff:127.0.0.1]/fhir", "private"),
        ("https://10.0.0.1/fhir", "private"),
        ("https://172.16.0.1/fhir", "private"),
        ("https://192.168.0.1/fhir", "private"),
        ("https://0.0.0.0/fhir", "private"),
        ("https://localhost/fhir", "private"),
        ("http://fhir.toto-hospital.example.jp/r4", "scheme"),
        ("file:///proc/self/environ", "scheme"),
    ],
)
def test_an_endpoint_mamori_would_not_call_is_an_error_in_the_form_and_nothing_is_stored(
    erin: User, hospital: Organisation, base_url: str, code: str
) -> None:
    client = staff_client(erin)

    response = client.post("/staff/endpoints/new/", new_endpoint_form(hospital, base_url))

    assert response.status_code == 200
    [message] = response.context["form"].errors["base_url"]
    with translation.override("ja"):
        japanese = str(BASE_URL_MESSAGES[code])
    with translation.override("en"):
        english = str(BASE_URL_MESSAGES[code])
    assert message in (japanese, english)
    assert not FhirEndpoint.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="fhir.endpoint").exists()


def test_the_attack_as_sent_a_secret_file_path_is_not_a_field_anywhere(erin: User, hospital: Organisation) -> None:
    client = staff_client(erin)
    assert not [field.name for field in FhirEndpoint._meta.get_fields() if "file" in field.name]
    page = client.get("/staff/endpoints/new/").content.decode()
    assert "secret_file" not in page and "key_file" not in page

    client.post(
        "/staff/endpoints/new/",
        new_endpoint_form(hospital, GOOD_URL, client_secret_file="/proc/self/environ"),
    )
    endpoint = FhirEndpoint.objects.get()
    response = client.post(
        f"/staff/endpoints/{endpoint.pk}/credentials/",
        {"client_secret": SECRET, "client_secret_file": "/proc/self/environ", "private_key_file": "/etc/shadow"},
    )

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert credentials.client_secret(endpoint) == SECRET
    assert "/proc/self/environ" not in str(AuditEvent.objects.values_list("detail", flat=True))


def test_a_secret_is_entered_once_stored_encrypted_and_never_shown_again(erin: User, hospital: Organisation) -> None:
    client = staff_client(erin)
    created = client.post("/staff/endpoints/new/", new_endpoint_form(hospital, GOOD_URL))
    endpoint = FhirEndpoint.objects.get()
    assert created["Location"] == f"/staff/endpoints/{endpoint.pk}/credentials/"

    response = client.post(f"/staff/endpoints/{endpoint.pk}/credentials/", {"client_secret": SECRET})

    assert response.status_code == 302
    # The column as stored (a BinaryField is never decrypted by the ORM): ciphertext, not the secret.
    [raw] = FhirEndpoint.objects.filter(pk=endpoint.pk).values_list("client_secret_encrypted", flat=True)
    assert raw and SECRET.encode() not in bytes(raw)
    assert base64.b64encode(SECRET.encode()) not in bytes(raw)
    endpoint.refresh_from_db()
    assert endpoint.client_secret_set_at is not None
    for page in (
        client.get("/staff/endpoints/"),
        client.get(f"/staff/endpoints/{endpoint.pk}/"),
        client.get(f"/staff/endpoints/{endpoint.pk}/credentials/"),
    ):
        assert page.status_code == 200
        assert SECRET not in page.content.decode()
    listed = client.get("/staff/endpoints/").content.decode()
    assert timezone.localtime(endpoint.client_secret_set_at).strftime("%Y-%m-%d %H:%M") in listed
    [event] = AuditEvent.objects.filter(action="fhir.endpoint.credentials_set")
    assert event.actor == erin and event.detail["entered"] == ["client_secret"]
    assert SECRET not in str(event.detail)


def test_a_private_key_that_does_not_fit_is_an_error_and_is_not_shown_back(erin: User, hospital: Organisation) -> None:
    endpoint = create_endpoint(
        actor=erin, organisation=hospital, name="H", base_url=GOOD_URL, auth_mode=AuthMode.BACKEND_SERVICES
    )
    client = staff_client(erin)
    wrong_kind = pem(ec.generate_private_key(ec.SECP384R1()))  # RS384 needs RSA

    response = client.post(f"/staff/endpoints/{endpoint.pk}/credentials/", {"private_key": wrong_kind})

    assert response.status_code == 200
    assert response.context["form"].errors["private_key"]
    assert wrong_kind.splitlines()[1] not in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.private_key_encrypted is None

    good = pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    assert client.post(f"/staff/endpoints/{endpoint.pk}/credentials/", {"private_key": good}).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.private_key_set_at is not None
    assert good.splitlines()[1] not in client.get(f"/staff/endpoints/{endpoint.pk}/credentials/").content.decode()


def test_moving_an_endpoint_to_another_server_drops_its_credentials(erin: User, hospital: Organisation) -> None:
    endpoint = create_endpoint(
        actor=erin, organisation=hospital, name="H", base_url=GOOD_URL, auth_mode=AuthMode.BACKEND_SERVICES
    )
    set_endpoint_secret(actor=erin, endpoint=endpoint, client_secret=SECRET)
    client = staff_client(erin)
    form = new_endpoint_form(hospital, "https://fhir.attacker.example.com/r4")
    del form["organisation"]

    response = client.post(f"/staff/endpoints/{endpoint.pk}/", form)

    assert response["Location"] == f"/staff/endpoints/{endpoint.pk}/credentials/"
    endpoint.refresh_from_db()
    assert endpoint.base_url == "https://fhir.attacker.example.com/r4"
    assert endpoint.client_secret_encrypted is None and endpoint.client_secret_set_at is None
    assert credentials.client_secret(endpoint) is None
    event = AuditEvent.objects.get(action="fhir.endpoint.updated")
    assert event.detail["credentials_dropped"] is True


def test_editing_to_a_loopback_address_is_an_error_in_the_form(erin: User, hospital: Organisation) -> None:
    endpoint = create_endpoint(actor=erin, organisation=hospital, name="H", base_url=GOOD_URL, auth_mode="none")
    client = staff_client(erin)
    form = new_endpoint_form(hospital, "https://127.0.0.1:8443/fhir")
    del form["organisation"]

    response = client.post(f"/staff/endpoints/{endpoint.pk}/", form)

    assert response.status_code == 200 and response.context["form"].errors["base_url"]
    endpoint.refresh_from_db()
    assert endpoint.base_url == GOOD_URL


def test_only_an_operator_administrator_may_manage_endpoints(
    dave: User, alice: Person, hospital: Organisation, erin: User
) -> None:
    endpoint = create_endpoint(actor=erin, organisation=hospital, name="H", base_url=GOOD_URL, auth_mode="none")
    reviewer = Client()
    sign_in_with_totp(reviewer, dave.email)
    citizen = Client()
    sign_in(citizen, alice.user.email)

    for client in (reviewer, citizen):
        assert client.get("/staff/endpoints/").status_code == 403
        assert client.post(f"/staff/endpoints/{endpoint.pk}/credentials/", {"client_secret": SECRET}).status_code in (
            302,
            403,
        )
    endpoint.refresh_from_db()
    assert endpoint.client_secret_encrypted is None
    assert Client().get("/staff/endpoints/").status_code == 302  # to sign-in


def test_the_list_reads_the_same_number_of_queries_for_one_endpoint_or_many(erin: User, hospital: Organisation) -> None:
    client = staff_client(erin)
    create_endpoint(actor=erin, organisation=hospital, name="A", base_url=GOOD_URL, auth_mode="none")
    with CaptureQueriesContext(connection) as one:
        assert client.get("/staff/endpoints/").status_code == 200
    for n in range(4):
        create_endpoint(actor=erin, organisation=hospital, name=f"B{n}", base_url=f"{GOOD_URL}/{n}", auth_mode="none")
    with CaptureQueriesContext(connection) as five:
        assert client.get("/staff/endpoints/").status_code == 200
    assert len(five) == len(one)
