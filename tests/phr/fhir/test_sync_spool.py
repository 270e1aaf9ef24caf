"""A pull is spooled to an encrypted private file as it arrives, not held in memory, and the file goes away."""

from __future__ import annotations

import stat
import tracemalloc

import pytest

from phr.fhir import discovery
from phr.fhir.retry import RetryPolicy
from phr.fhir.spool import Spool, spool_dir
from phr.fhir.sync import SyncOptions, run_sync
from phr.models import FhirEndpoint, FhirResource
from phr.models.records import SyncRunStatus
from tests.phr.fhir.conftest import load_patient
from tests.phr.fhir.peers import Fault

NOTE_CHARS = 20_000
LARGE_OBSERVATIONS = 500  # ≈ 30 MB of notes in all


@pytest.fixture(autouse=True)
def _own_var_dir(settings, tmp_path) -> None:
    settings.VAR_DIR = tmp_path


def searching_only(endpoint) -> None:
    """sekmet answers $everything in one page; searches page, which is what a spool is for."""
    discovery.refresh_capabilities(endpoint)
    FhirEndpoint.objects.filter(pk=endpoint.pk).update(supports_everything=False)


def large_observations(patient_id: str, tag: str) -> dict:
    """A transaction of Observations with long notes (a discharge summary pasted into each, say)."""
    entries = []
    for number in range(LARGE_OBSERVATIONS):
        rid = f"{tag}-big-{number}"
        resource = {
            "resourceType": "Observation",
            "id": rid,
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2"}], "text": "身長"},
            "subject": {"reference": f"Patient/{patient_id}"},
            "effectiveDateTime": "2026-11-20T09:30:00+09:00",
            "valueQuantity": {"value": 170.10, "unit": "cm"},
            "note": [{"text": (f"{number:05d}" + "経過良好。" * NOTE_CHARS)[:NOTE_CHARS]}],
        }
        entries.append({"resource": resource, "request": {"method": "PUT", "url": f"Observation/{rid}"}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


@pytest.mark.django_db
def test_a_pull_larger_than_memory_allows_is_stored_through_the_spool(alice, erin, endpoint, peer) -> None:
    connection, loaded = load_patient(peer, endpoint, alice, erin, tag="big")
    peer.server.transaction(large_observations(loaded.patient_id, "big"))
    searching_only(endpoint)
    pulled_text_bytes = LARGE_OBSERVATIONS * NOTE_CHARS * 3  # UTF-8: three bytes a character

    tracemalloc.start()
    try:
        run = run_sync(connection.id, options=SyncOptions(page_size=20, policy=RetryPolicy(sleep=lambda s: None)))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert run is not None and run.status == SyncRunStatus.SUCCEEDED, run and run.error
    assert run.created_count == loaded.count + LARGE_OBSERVATIONS
    assert FhirResource.objects.filter(person=alice, resource_id__startswith="big-big-").count() == LARGE_OBSERVATIONS
    # Held in memory, the pull would cost at least its bytes (and their parsed strings besides); spooled, the
    # peak is a page and a batch, whatever the pull's size.
    assert peak < 0.6 * pulled_text_bytes, f"peak {peak / 1e6:.1f} MB for a {pulled_text_bytes / 1e6:.0f} MB pull"
    assert list(spool_dir().iterdir()) == [], "the spool is deleted after the run"


@pytest.mark.django_db
def test_a_pull_that_fails_half_way_deletes_its_spool_and_stores_nothing(alice, erin, endpoint, peer) -> None:
    connection, loaded = load_patient(peer, endpoint, alice, erin, tag="half")
    peer.server.transaction(large_observations(loaded.patient_id, "half"))
    searching_only(endpoint)
    peer.proxy.faults.extend(
        Fault(503, matches=lambda path: "_offset=100&" in path or path.endswith("_offset=100")) for _ in range(2)
    )

    run = run_sync(
        connection.id, options=SyncOptions(page_size=50, policy=RetryPolicy(attempts=2, sleep=lambda s: None))
    )

    assert run is not None and run.status == SyncRunStatus.FAILED
    assert "503" in run.error
    assert any("_offset=50" in path for path in peer.proxy.paths()), "pages were spooled before the failure"
    assert not FhirResource.objects.filter(person=alice).exists()
    assert list(spool_dir().iterdir()) == []


def test_the_spool_file_is_private_and_holds_no_readable_record() -> None:
    page = (
        b'{"resourceType":"Bundle","type":"searchset","entry":[{"resource":'
        + '{"resourceType":"Patient","id":"p1","name":[{"family":"佐藤"}]}}]}'.encode()
    )

    with Spool() as spool:
        spool.append(page)
        spool.append(b'{"resourceType":"Patient","id":"p2"}')
        mode = stat.S_IMODE(spool.path.stat().st_mode)
        on_disk = spool.path.read_bytes()
        read_back = list(spool.read())

    assert mode == 0o600
    assert stat.S_IMODE(spool_dir().stat().st_mode) == 0o700
    assert b"Patient" not in on_disk and "佐藤".encode() not in on_disk
    assert read_back == [(1, page), (2, b'{"resourceType":"Patient","id":"p2"}')]
    assert not spool.path.exists()


def test_the_spool_is_deleted_when_the_block_fails() -> None:
    spools: list[Spool] = []

    def failing_run() -> None:
        with Spool() as spool:
            spools.append(spool)
            spool.append(b"{}")
            raise RuntimeError("the run failed")

    with pytest.raises(RuntimeError):
        failing_run()

    assert not spools[0].path.exists()
