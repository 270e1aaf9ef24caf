"""The demo hospitals' records: carebundle bundles under a citizen's name plus JP Core examples sync cleanly."""

from __future__ import annotations

import pytest

from phr.demo import fhir as demo_fhir
from phr.fhir import services as fhir_services
from phr.fhir.retry import RetryPolicy
from phr.fhir.sync import SyncOptions, run_sync
from phr.models.records import SyncRunStatus

pytestmark = pytest.mark.django_db


def test_a_demo_citizens_record_with_jp_core_examples_syncs_without_refusals(alice, erin, endpoint, peer) -> None:
    system = endpoint.organisation.patient_number_system or ""
    bundle = demo_fhir._patient_bundle(alice, system=system, number="55500001", slug="demo", position=0, jp_core=True)
    assert len(list(demo_fhir.FIXTURES.glob("*.json"))) == 5
    peer.server.transaction(bundle)
    connection = fhir_services.link_hospital_patient(
        person=alice, endpoint=endpoint, patient_number="55500001", actor=erin
    )

    run = run_sync(connection.id, options=SyncOptions(policy=RetryPolicy(sleep=lambda s: None)))

    assert run is not None and run.status == SyncRunStatus.SUCCEEDED, run.error
    assert run.rejected_count == 0, run.rejected_entries
    assert run.created_count == len(bundle["entry"])


def test_the_demo_endpoints_use_each_way_of_authorising(settings, tmp_path) -> None:
    settings.VAR_DIR = tmp_path
    modes = [(h.auth_mode, h.signing_alg) for h in demo_fhir.HOSPITALS]

    assert modes == [("backend_services", "RS384"), ("backend_services", "ES384"), ("none", "RS384")]
    assert demo_fhir.private_key_path("ES384").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert oct(demo_fhir.private_key_path("RS384").stat().st_mode & 0o777) == "0o600"
