"""Pulling a person's records from a real FHIR server (sekmet-fhir on loopback), through the sync service."""

from __future__ import annotations

import copy
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from phr.fhir import discovery
from phr.fhir.retry import RetryPolicy
from phr.fhir.sync import SyncOptions, claim, run_sync
from phr.models import Connection, FhirEndpoint, FhirResource, SyncRun
from phr.models.records import SyncRunStatus
from tests.phr.fhir.conftest import load_patient

pytestmark = pytest.mark.django_db


def no_wait() -> RetryPolicy:
    return RetryPolicy(sleep=lambda seconds: None)


def stored(person) -> set[tuple[str, str]]:
    return set(FhirResource.objects.filter(person=person).values_list("resource_type", "resource_id"))


def expected(loaded) -> set[tuple[str, str]]:
    return {(rtype, rid) for rtype, ids in loaded.resource_ids.items() for rid in ids}


def fhir_requests(peer) -> list[str]:
    return [path for path in peer.proxy.paths() if path.startswith("/fhir/") and "/.well-known/" not in path]


def test_a_first_sync_pulls_the_record_with_patient_everything(alice, erin, endpoint, peer) -> None:
    connection, loaded = load_patient(peer, endpoint, alice, erin, tag="ev")

    run = run_sync(connection.id, options=SyncOptions(policy=no_wait()))

    assert run is not None and run.status == SyncRunStatus.SUCCEEDED, run and run.error
    assert stored(alice) == expected(loaded)
    assert run.created_count == loaded.count and run.rejected_count == 0
    paths = fhir_requests(peer)
    assert any(path.endswith("/$everything?_count=100") for path in paths)
    assert not any(path.startswith("/fhir/Observation?") for path in paths), "no per-type search when $everything works"
    # The Binary behind the referral letter's attachment is outside $everything's answer: resolved by reference.
    assert any(path.startswith("/fhir/Binary/") for path in paths)
    assert run.requests_made == len(peer.proxy.paths())
    connection.refresh_from_db()
    assert connection.last_success_started_at == run.started_at


def test_without_everything_it_searches_each_type_and_follows_next_links(alice, erin, endpoint, peer) -> None:
    connection, loaded = load_patient(peer, endpoint, alice, erin, tag="pg")
    discovery.refresh_capabilities(endpoint)
    FhirEndpoint.objects.filter(pk=endpoint.pk).update(supports_everything=False)

    run = run_sync(connection.id, options=SyncOptions(page_size=10, policy=no_wait()))

    assert run is not None and run.status == SyncRunStatus.SUCCEEDED, run.error
    assert stored(alice) == expected(loaded)
    observation_pages = [p for p in fhir_requests(peer) if p.startswith("/fhir/Observation?")]
    offsets = sorted(int(parse_qs(urlsplit(p).query).get("_offset", ["0"])[0]) for p in observation_pages)
    assert offsets == [0, 10, 20, 30], "34 observations in pages of 10, each reached through its next link"
    assert not any("$everything" in p for p in fhir_requests(peer))
    # The Practitioner, Organization, Medication and Binary are not in any patient search: resolved by reference.
    for rtype in ("Practitioner", "Organization", "Medication", "Binary"):
        assert any(p.startswith(f"/fhir/{rtype}/") for p in fhir_requests(peer)), rtype


def test_a_second_sync_fetches_only_what_changed_since_the_first_began(alice, erin, endpoint, peer) -> None:
    connection, loaded = load_patient(peer, endpoint, alice, erin, tag="inc")
    first = run_sync(connection.id, options=SyncOptions(policy=no_wait()))
    assert first is not None and first.status == SyncRunStatus.SUCCEEDED, first.error
    observation_id = sorted(loaded.resource_ids["Observation"])[0]
    changed = httpx.get(
        f"{peer.server.direct_url}/Observation/{observation_id}", headers=peer.server._admin_headers()
    ).json()
    changed = copy.deepcopy(changed)
    changed["status"] = "amended"
    peer.server.put(changed)
    condition = {
        "resourceType": "Condition",
        "id": f"{loaded.patient_id[:40]}-new",
        "subject": {"reference": f"Patient/{loaded.patient_id}"},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "J45"}], "text": "喘息"},
    }
    peer.server.put(condition)
    peer.proxy.reset()

    second = run_sync(connection.id, options=SyncOptions(policy=no_wait()))

    assert second is not None and second.status == SyncRunStatus.SUCCEEDED, second.error
    assert second.incremental_since == first.started_at
    assert (second.created_count, second.updated_count, second.unchanged_count) == (1, 1, 0)
    searches = fhir_requests(peer)
    endpoint.refresh_from_db()
    types = discovery.searchable_types(endpoint)
    # One page per searchable type, each asking only for what changed; no $everything, no reference look-ups.
    assert [urlsplit(p).path.removeprefix("/fhir/") for p in searches] == types
    assert all("_lastUpdated=gt" in p for p in searches)
    assert second.requests_made == len(peer.proxy.paths()) == len(types)
    assert ("Condition", condition["id"]) in stored(alice)


def test_a_429_is_retried_after_the_time_the_server_asks_for(alice, erin, endpoint, peer) -> None:
    from tests.phr.fhir.peers import Fault

    connection, loaded = load_patient(peer, endpoint, alice, erin, tag="tm")
    waits: list[float] = []
    peer.proxy.faults.append(Fault(429, {"Retry-After": "7"}, matches=lambda path: "$everything" in path))

    run = run_sync(connection.id, options=SyncOptions(policy=RetryPolicy(sleep=waits.append)))

    assert run is not None and run.status == SyncRunStatus.SUCCEEDED, run.error
    assert waits == [7.0]
    assert sum("$everything" in p for p in peer.proxy.paths()) == 2
    assert stored(alice) == expected(loaded)


def test_a_server_that_stays_overloaded_fails_the_run_and_stores_nothing(alice, erin, endpoint, peer) -> None:
    from tests.phr.fhir.peers import Fault

    connection, _loaded = load_patient(peer, endpoint, alice, erin, tag="ov")
    peer.proxy.faults.extend(Fault(503, matches=lambda path: "$everything" in path) for _ in range(4))

    run = run_sync(connection.id, options=SyncOptions(policy=RetryPolicy(attempts=4, sleep=lambda s: None)))

    assert run is not None and run.status == SyncRunStatus.FAILED
    assert "503" in run.error
    assert stored(alice) == set()
    connection.refresh_from_db()
    assert connection.last_success_started_at is None


def test_only_one_run_per_connection_runs_at_a_time(alice, erin, endpoint, peer) -> None:
    connection, _loaded = load_patient(peer, endpoint, alice, erin, tag="one")
    running = claim(connection.id)
    assert running is not None

    assert claim(connection.id) is None
    assert run_sync(connection.id) is None
    assert SyncRun.objects.filter(connection=connection).count() == 1


def test_a_patient_number_that_matches_no_patient_fails_with_a_clear_error(alice, erin, endpoint, peer) -> None:
    from phr.fhir import services

    connection = services.link_hospital_patient(person=alice, endpoint=endpoint, patient_number="00000000", actor=erin)

    run = run_sync(connection.id, options=SyncOptions(policy=no_wait()))

    assert run is not None and run.status == SyncRunStatus.FAILED
    assert run.error == "the patient number matched 0 patients at the hospital"
    assert Connection.objects.get(pk=connection.pk).patient_id_encrypted is None


def test_a_server_that_stops_answering_times_out_and_the_request_is_tried_again(alice, erin, endpoint, peer) -> None:
    import httpx

    from tests.phr.fhir.peers import Fault

    connection, loaded = load_patient(peer, endpoint, alice, erin, tag="to")
    peer.proxy.faults.append(Fault(0, hang=3.0, matches=lambda path: "$everything" in path))
    options = SyncOptions(policy=no_wait(), timeout=httpx.Timeout(1.0, connect=1.0))

    run = run_sync(connection.id, options=options)

    assert run is not None and run.status == SyncRunStatus.SUCCEEDED, run.error
    assert sum("$everything" in p for p in peer.proxy.paths()) == 2
    assert stored(alice) == expected(loaded)


def test_a_server_that_speaks_only_smart_v1_gets_read_scopes(alice, erin, endpoint, peer) -> None:
    from urllib.parse import parse_qs

    FhirEndpoint.objects.filter(pk=endpoint.pk).update(scope_style="v1")
    connection, loaded = load_patient(peer, endpoint, alice, erin, tag="v1")

    run = run_sync(connection.id, options=SyncOptions(policy=no_wait()))

    assert run is not None and run.status == SyncRunStatus.SUCCEEDED, run.error
    token_request = peer.proxy.bodies[peer.proxy.paths().index("/auth/token")]
    scopes = parse_qs(token_request.decode())["scope"][0].split()
    assert "system/Observation.read" in scopes and not any(s.endswith(".rs") for s in scopes)
    assert stored(alice) == expected(loaded)
