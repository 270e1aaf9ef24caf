"""A hospital server that dies in the middle of a sync: the run fails, nothing is half-visible, the next completes."""

from __future__ import annotations

import pytest

from phr.fhir import discovery
from phr.fhir.retry import RetryPolicy
from phr.fhir.sync import SyncOptions, run_sync
from phr.models import FhirEndpoint, FhirResource
from phr.models.records import SyncRunStatus
from tests.phr.fhir.conftest import allow_origin, load_patient, make_endpoint, start_peer, stop_peer
from tests.phr.fhir.peers import sekmet_available

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_peer(tmp_path, settings):
    """A server of this test's own, since the test kills it."""
    if not sekmet_available():
        pytest.skip("sekmet-fhir is not installed (pip install -r requirements-dev.txt)")
    peer = start_peer(tmp_path / "sekmet")
    allow_origin(settings, peer.server.base_url)
    yield peer
    stop_peer(peer)


def test_a_server_dying_mid_sync_fails_the_run_and_the_next_run_completes(alice, erin, hospital, own_peer) -> None:
    endpoint = make_endpoint(hospital, own_peer)
    connection, loaded = load_patient(own_peer, endpoint, alice, erin, tag="die")
    discovery.refresh_capabilities(endpoint)
    FhirEndpoint.objects.filter(pk=endpoint.pk).update(supports_everything=False)
    options = SyncOptions(page_size=10, policy=RetryPolicy(attempts=3, sleep=lambda seconds: None))

    def die_on_the_second_observation_page(method: str, path: str) -> None:
        if path.startswith("/fhir/Observation?") and "_offset=10" in path:
            own_peer.server.kill()

    own_peer.proxy.on_request = die_on_the_second_observation_page

    failed = run_sync(connection.id, options=options)

    assert failed is not None and failed.status == SyncRunStatus.FAILED
    assert failed.error.startswith("127.0.0.1:") and "did not answer" in failed.error
    assert failed.requests_made > 3, "the run had pulled pages before the server died"
    assert not FhirResource.objects.filter(person=alice).exists(), "nothing from the failed run is visible"
    assert failed.created_count == 0 and failed.rejected_entries == []
    connection.refresh_from_db()
    assert connection.last_success_started_at is None

    own_peer.proxy.on_request = None
    own_peer.server.start()
    completed = run_sync(connection.id, options=options)

    assert completed is not None and completed.status == SyncRunStatus.SUCCEEDED, completed.error
    assert completed.incremental_since is None, "a failed run does not count as a starting point"
    assert FhirResource.objects.filter(person=alice).count() == loaded.count
