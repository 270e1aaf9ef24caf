"""SMART Backend Services against sekmet-fhir's token endpoint: signed JWT client assertions, RS384 and ES384."""

from __future__ import annotations

import jwt
import pytest

from phr.fhir import backend_services, credentials, discovery
from phr.fhir.endpoints import set_endpoint_secret
from phr.fhir.errors import AuthorisationFailed
from phr.fhir.http import FhirHttp
from phr.fhir.retry import RetryPolicy
from phr.fhir.sync import SyncOptions, run_sync
from phr.models import FhirResource
from phr.models.records import SyncRunStatus
from tests.phr.fhir.conftest import load_patient, make_endpoint

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_a_hospital_authorised_sync_gets_its_token_with_a_signed_client_assertion(
    alg, alice, erin, hospital, peer
) -> None:
    endpoint = make_endpoint(hospital, peer, alg=alg)
    connection, loaded = load_patient(peer, endpoint, alice, erin, tag=f"bs{alg[:2]}")

    run = run_sync(connection.id, options=SyncOptions(policy=RetryPolicy(sleep=lambda s: None)))

    assert run is not None and run.status == SyncRunStatus.SUCCEEDED, run.error
    assert peer.proxy.paths().count("/auth/token") == 1
    assert FhirResource.objects.filter(person=alice).count() == loaded.count


def test_the_client_assertion_carries_the_claims_smart_requires(hospital, peer) -> None:
    endpoint = make_endpoint(hospital, peer, alg="ES384")
    key = credentials.signing_key(endpoint)
    token_url = f"{peer.server.base_url.removesuffix('/fhir')}/auth/token"

    first = backend_services.client_assertion(client_id="c1", token_url=token_url, key=key, alg="ES384", kid="es384")
    second = backend_services.client_assertion(client_id="c1", token_url=token_url, key=key, alg="ES384", kid="es384")

    claims = jwt.decode(first, key.public_key(), algorithms=["ES384"], audience=token_url)
    assert jwt.get_unverified_header(first)["kid"] == "es384"
    assert claims["iss"] == claims["sub"] == "c1"
    assert 0 < claims["exp"] - claims["iat"] <= 300
    assert claims["jti"] != jwt.decode(second, options={"verify_signature": False})["jti"]


def test_a_key_the_hospital_does_not_trust_is_refused_and_the_run_fails(alice, erin, hospital, peer) -> None:
    endpoint = make_endpoint(hospital, peer)
    untrusted = peer.server.keys["untrusted"].read_text(encoding="ascii")
    set_endpoint_secret(actor=None, endpoint=endpoint, private_key_pem=untrusted)
    connection, _loaded = load_patient(peer, endpoint, alice, erin, tag="bsx")

    run = run_sync(connection.id, options=SyncOptions(policy=RetryPolicy(sleep=lambda s: None)))

    assert run is not None and run.status == SyncRunStatus.FAILED
    assert run.error == "authorisation failed: the token endpoint refused the client (401)"
    assert not FhirResource.objects.filter(person=alice).exists()


def test_a_key_of_the_wrong_kind_for_the_algorithm_is_refused_before_any_request(hospital, peer) -> None:
    endpoint = make_endpoint(hospital, peer, alg="RS384")
    endpoint.signing_alg = "ES384"
    discovery.refresh_capabilities(endpoint)

    with FhirHttp(base_url=endpoint.base_url) as http, pytest.raises(AuthorisationFailed, match="P-384"):
        backend_services.system_token(endpoint, http=http)
    assert "/auth/token" not in peer.proxy.paths()
