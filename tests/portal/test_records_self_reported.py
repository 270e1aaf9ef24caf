"""Self-reported data: stored as Observations with the person as performer, marked self-reported everywhere."""

from __future__ import annotations

import json
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from phr.models import AuditEvent, FhirResource, Person, ResourceIndex
from tests.conftest import sign_in
from tests.phr.records.conftest import raw_of


def _post(client: Client, **data: str) -> object:
    return client.post("/me/records/self-reported/", {"measured_at": "2026-04-01T08:00", **data})


def test_a_weight_is_stored_as_a_vital_signs_observation_by_the_person(client: Client, alice: Person) -> None:
    sign_in(client, alice.user.email)

    response = _post(client, measure="weight", value="61.5")

    assert response.status_code == 302  # type: ignore[attr-defined]
    row = FhirResource.objects.get(person=alice)
    assert row.self_reported
    resource = json.loads(raw_of(row))
    assert resource["code"]["coding"][0]["code"] == "29463-7"
    assert resource["performer"] == [{"reference": f"Patient/{alice.pk}"}]
    assert resource["valueQuantity"]["value"] == 61.5
    index = ResourceIndex.objects.get(person=alice)
    assert index.self_reported and index.category == "vital_signs"
    assert AuditEvent.objects.filter(person=alice, action="records.self_reported").exists()


def test_steps_are_lifelog_and_blood_pressure_has_two_components(client: Client, alice: Person) -> None:
    sign_in(client, alice.user.email)

    _post(client, measure="steps", value="8000")
    _post(client, measure="blood_pressure", value="128", second="82")

    categories = sorted(ResourceIndex.objects.filter(person=alice).values_list("category", flat=True))
    assert categories == ["lifelog", "vital_signs"]
    pressure = next(r for r in FhirResource.objects.filter(person=alice) if b"85354-9" in raw_of(r))
    components = json.loads(raw_of(pressure))["component"]
    assert [c["valueQuantity"]["value"] for c in components] == [128, 82]


def test_blood_pressure_needs_both_values_and_the_future_is_refused(client: Client, alice: Person) -> None:
    sign_in(client, alice.user.email)
    tomorrow = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")

    assert _post(client, measure="blood_pressure", value="128").status_code == 200  # type: ignore[attr-defined]
    assert _post(client, measure="weight", value="60", measured_at=tomorrow).status_code == 200  # type: ignore[attr-defined]
    assert not FhirResource.objects.filter(person=alice).exists()


def test_self_reported_data_is_badged_on_the_timeline(client: Client, alice: Person) -> None:
    sign_in(client, alice.user.email)
    _post(client, measure="weight", value="61.5")

    page = client.get("/me/records/timeline/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Body weight" in page
    assert "Self-reported" in page
