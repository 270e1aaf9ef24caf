"""Fixtures of the FHIR tests: one real sekmet-fhir server per session behind a fault-injecting proxy,
endpoints that point at it, and patients loaded into it for our personas.

The servers listen on loopback over http, which the outbound policy refuses; each test that uses one lists
its origin in ``MAMORI_OUTBOUND_ALLOW`` (``allow_origin``), as an operator lists a local server.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from phr import outbound
from phr.fhir import backend_services, endpoints
from phr.fhir import services as fhir_services
from phr.models import Connection, FhirEndpoint, Organisation, Person, User
from phr.models.fhir import AuthMode
from tests.phr.fhir.data import LoadedPatient, patient_transaction
from tests.phr.fhir.peers import FaultProxy, SekmetServer, client_id_for, free_port, sekmet_available

_numbers = itertools.count(10_000_001)


@dataclass
class Peer:
    server: SekmetServer
    proxy: FaultProxy


def start_peer(workdir, *, auth: str = "smart") -> Peer:
    proxy_port, port = free_port(), free_port()
    server = SekmetServer(workdir=workdir, port=port, public_port=proxy_port, auth=auth)
    proxy = FaultProxy(proxy_port, port)
    proxy.start()
    server.start()
    return Peer(server, proxy)


def stop_peer(peer: Peer) -> None:
    peer.proxy.stop()
    peer.server.cleanup()


@pytest.fixture(scope="session")
def _session_peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    if not sekmet_available():
        pytest.skip("sekmet-fhir is not installed (pip install -r requirements-dev.txt)")
    peer = start_peer(tmp_path_factory.mktemp("sekmet"))
    yield peer
    stop_peer(peer)


def allow_origin(settings, url: str) -> None:
    """Let the outbound policy reach ``url``'s origin (a loopback test server) for this test."""
    settings.MAMORI_OUTBOUND_ALLOW = [*settings.MAMORI_OUTBOUND_ALLOW, outbound.origin_of(url)]


@pytest.fixture
def peer(_session_peer: Peer, settings) -> Iterator[Peer]:
    """The session's server, allowed for this test, with the proxy's log and faults cleared."""
    allow_origin(settings, _session_peer.server.base_url)
    _session_peer.proxy.reset()
    yield _session_peer
    _session_peer.proxy.reset()


@pytest.fixture(autouse=True)
def _forget_system_tokens() -> Iterator[None]:
    backend_services.forget_tokens()
    yield
    backend_services.forget_tokens()


def make_endpoint(
    hospital: Organisation, peer: Peer, *, alg: str = "RS384", auth_mode: str = AuthMode.BACKEND_SERVICES
) -> FhirEndpoint:
    """The endpoint as an operator makes it: through the staff services, its private key entered once."""
    backend = auth_mode == AuthMode.BACKEND_SERVICES
    endpoint = endpoints.create_endpoint(
        actor=None,
        organisation=hospital,
        name="東都大学病院 FHIR",
        base_url=peer.server.base_url,
        auth_mode=auth_mode,
        client_id=client_id_for(alg) if backend else "",
        key_id=alg.lower(),
        signing_alg=alg,
    )
    if backend:
        pem = peer.server.keys[alg].read_text(encoding="ascii")
        endpoint = endpoints.set_endpoint_secret(actor=None, endpoint=endpoint, private_key_pem=pem)
    return endpoint


@pytest.fixture
def endpoint(hospital: Organisation, peer: Peer) -> FhirEndpoint:
    return make_endpoint(hospital, peer)


@pytest.fixture
def operator_user(erin: User) -> User:
    return erin


def load_patient(
    peer: Peer,
    endpoint: FhirEndpoint,
    person: Person,
    actor: User,
    *,
    tag: str,
    profile: str = "hypertension",
    seed: int = 1,
) -> tuple[Connection, LoadedPatient]:
    """Put a synthetic patient on the server under a fresh patient number, and link it to ``person``."""
    number = str(next(_numbers))
    tag = f"{tag}{number[-4:]}"
    system = endpoint.organisation.patient_number_system or ""
    bundle, loaded = patient_transaction(
        profile=profile, seed=seed, patient_system=system, patient_number=number, tag=tag
    )
    peer.server.transaction(bundle)
    connection = fhir_services.link_hospital_patient(
        person=person, endpoint=endpoint, patient_number=number, actor=actor
    )
    return connection, loaded
