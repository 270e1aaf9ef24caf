"""Resources the hospital deleted: found by a full sync, kept with their versions, gone from the record views."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from django.test import Client

from phr.fhir import discovery
from phr.fhir.retry import RetryPolicy
from phr.fhir.sync import FULL_SYNC_EVERY, SyncOptions, run_sync
from phr.models import Connection, FhirEndpoint, FhirResource, FhirResourceVersion, ResourceIndex, SyncRun
from phr.models.records import SyncRunStatus
from phr.records.reading import index_of
from tests.conftest import sign_in
from tests.phr.fhir.conftest import load_patient

pytestmark = pytest.mark.django_db


def sync(connection: Connection) -> SyncRun:
    run = run_sync(connection.id, options=SyncOptions(page_size=50, policy=RetryPolicy(sleep=lambda s: None)))
    assert run is not None and run.status == SyncRunStatus.SUCCEEDED, run and run.error
    return run


def delete_on_server(peer, resource_type: str, resource_id: str) -> dict:
    url = f"{peer.server.direct_url}/{resource_type}/{resource_id}"
    kept = httpx.get(url, headers=peer.server._admin_headers(), timeout=30).json()
    response = httpx.delete(url, headers=peer.server._admin_headers(), timeout=30)
    assert response.status_code in (200, 204), response.text[:500]
    return kept


def next_run_is_full(connection: Connection) -> None:
    """As if the last full pull was longer ago than FULL_SYNC_EVERY."""
    connection.refresh_from_db()
    assert connection.last_full_sync_started_at is not None
    Connection.objects.filter(pk=connection.pk).update(
        last_full_sync_started_at=connection.last_full_sync_started_at - FULL_SYNC_EVERY - timedelta(minutes=1)
    )


def listed(person) -> set[tuple[str, str]]:
    return set(index_of(person).values_list("resource__resource_type", "resource__resource_id"))


def test_a_full_sync_marks_what_the_hospital_deleted_and_the_record_views_stop_listing_it(
    alice, erin, endpoint, peer
) -> None:
    connection, loaded = load_patient(peer, endpoint, alice, erin, tag="del")
    first = sync(connection)
    assert first.incremental_since is None and first.deleted_count == 0
    observation_id = sorted(loaded.resource_ids["Observation"])[0]
    delete_on_server(peer, "Observation", observation_id)
    next_run_is_full(connection)

    second = sync(connection)

    assert second.incremental_since is None, "a full pull"
    assert second.deleted_count == 1
    assert (second.created_count, second.updated_count) == (0, 0)
    gone = FhirResource.objects.get(person=alice, resource_type="Observation", resource_id=observation_id)
    assert gone.deleted_at_source is not None, "kept, marked as withdrawn by the hospital"
    assert gone.version == 1 and bytes(gone.raw_encrypted), "the copy received is kept"
    assert ("Observation", observation_id) not in listed(alice)
    assert not ResourceIndex.objects.filter(resource=gone).exists()
    client = Client()
    sign_in(client, alice.user.email)
    assert client.get(f"/connections/{connection.pk}/status/").json()["deleted"] == 1
    page = client.get("/me/connections/").content.decode()
    assert "病院が取り下げ 1 件" in page
    still = {(rtype, rid) for rtype, ids in loaded.resource_ids.items() for rid in ids} - {
        ("Observation", observation_id)
    }
    assert FhirResource.objects.filter(person=alice, deleted_at_source__isnull=False).count() == 1
    assert still <= set(FhirResource.objects.filter(person=alice).values_list("resource_type", "resource_id"))


def test_incremental_runs_do_not_see_deletions_and_the_daily_full_run_does(alice, erin, endpoint, peer) -> None:
    connection, loaded = load_patient(peer, endpoint, alice, erin, tag="dly")
    sync(connection)
    condition_id = sorted(loaded.resource_ids["Condition"])[0]
    delete_on_server(peer, "Condition", condition_id)

    incremental = sync(connection)

    assert incremental.incremental_since is not None
    assert incremental.deleted_count == 0
    assert ("Condition", condition_id) in listed(alice), "an incremental pull cannot tell a deletion"

    next_run_is_full(connection)
    full = sync(connection)

    assert full.incremental_since is None
    assert full.deleted_count == 1
    assert ("Condition", condition_id) not in listed(alice)
    connection.refresh_from_db()
    assert connection.last_full_sync_started_at == full.started_at
    assert sync(connection).incremental_since == full.started_at, "the next run is incremental again"


def test_a_resource_the_hospital_serves_again_is_listed_again_as_a_new_version(alice, erin, endpoint, peer) -> None:
    connection, loaded = load_patient(peer, endpoint, alice, erin, tag="back")
    sync(connection)
    observation_id = sorted(loaded.resource_ids["Observation"])[-1]
    kept = delete_on_server(peer, "Observation", observation_id)
    next_run_is_full(connection)
    assert sync(connection).deleted_count == 1
    kept.pop("meta", None)
    peer.server.put(kept)
    next_run_is_full(connection)

    restored = sync(connection)

    assert restored.deleted_count == 0 and restored.updated_count == 1
    row = FhirResource.objects.get(person=alice, resource_type="Observation", resource_id=observation_id)
    assert row.deleted_at_source is None and row.version == 2
    assert FhirResourceVersion.objects.filter(resource=row, version=1).exists(), "the earlier copy is kept"
    assert ("Observation", observation_id) in listed(alice)


def test_a_full_search_pull_only_judges_the_types_it_searched(alice, erin, endpoint, peer) -> None:
    connection, loaded = load_patient(peer, endpoint, alice, erin, tag="srch")
    discovery.refresh_capabilities(endpoint)
    FhirEndpoint.objects.filter(pk=endpoint.pk).update(supports_everything=False)
    sync(connection)
    observation_id = sorted(loaded.resource_ids["Observation"])[0]
    delete_on_server(peer, "Observation", observation_id)
    next_run_is_full(connection)

    second = sync(connection)

    # Practitioner, Organization, Medication and Binary are fetched by reference only when new: never judged.
    assert second.deleted_count == 1
    assert set(
        FhirResource.objects.filter(person=alice, deleted_at_source__isnull=False).values_list(
            "resource_type", "resource_id"
        )
    ) == {("Observation", observation_id)}


def test_a_full_pull_that_serves_nothing_marks_nothing(alice, erin, endpoint, peer) -> None:
    connection, loaded = load_patient(peer, endpoint, alice, erin, tag="emp")
    sync(connection)
    stored = FhirResource.objects.filter(person=alice).count()
    for resource_type, ids in loaded.resource_ids.items():
        if resource_type != "Patient":
            for resource_id in ids:
                delete_on_server(peer, resource_type, resource_id)
    next_run_is_full(connection)

    run = sync(connection)

    assert run.incremental_since is None and run.deleted_count == 0
    assert not FhirResource.objects.filter(person=alice, deleted_at_source__isnull=False).exists()
    assert FhirResource.objects.filter(person=alice).count() == stored
