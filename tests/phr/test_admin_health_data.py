"""The Django admin shows no health data: no record, index, version, access-log or notice model is registered,
so operator staff read a person's records only through routes that log the read."""

from __future__ import annotations

from django.contrib import admin
from django.test import Client

from phr.models import (
    BreakGlassGrant,
    FhirResource,
    FhirResourceVersion,
    Person,
    PersonNotice,
    RecordAccess,
    ResourceIndex,
    User,
)
from tests.conftest import sign_in_with_totp
from tests.portal.test_records_fixtures import seed_record


def test_no_model_holding_record_content_is_in_the_admin() -> None:
    for model in (FhirResource, FhirResourceVersion, ResourceIndex, RecordAccess, PersonNotice, BreakGlassGrant):
        assert not admin.site.is_registered(model), model.__name__


def test_an_operator_admin_finds_no_record_content_in_the_admin(client: Client, erin: User, alice: Person) -> None:
    seed_record(alice)
    sign_in_with_totp(client, erin.email)

    for path in ("/admin/phr/fhirresource/", "/admin/phr/resourceindex/", "/admin/phr/recordaccess/"):
        assert client.get(path).status_code == 404
    page = client.get(f"/admin/phr/person/{alice.pk}/change/").content.decode()
    assert "ペニシリン" not in page and "血糖" not in page
    assert not RecordAccess.objects.exists()
