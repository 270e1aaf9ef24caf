"""Bad values typed or pasted into portal forms come back as errors in the form, never as a 500."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from consent.models import ApiClient
from phr.models import FhirResource, Organisation, Person, User
from tests.conftest import sign_in
from tests.consent.api.test_api_clients_ui import frank, sign_in_and_confirm

__all__ = ["frank"]


@pytest.mark.parametrize("measured_at", ["0001-01-01T00:00", "0001-01-01 08:59", "1899-12-31T23:59"])
def test_a_measurement_dated_in_year_one_is_a_form_error(client: Client, alice: Person, measured_at: str) -> None:
    sign_in(client, alice.user.email)

    with translation.override("en"):
        response = client.post(
            "/me/records/self-reported/",
            {"measure": "weight", "measured_at": measured_at, "value": "61.5"},
            HTTP_ACCEPT_LANGUAGE="en",
        )

    assert response.status_code == 200
    assert "measured_at" in response.context["form"].errors
    assert not FhirResource.objects.filter(person=alice).exists()


def test_an_inline_jwks_nested_5000_deep_is_a_form_error_naming_the_limit(
    client: Client, frank: User, hospital: Organisation
) -> None:
    sign_in_and_confirm(client, frank.email)

    response = client.post(
        "/staff/api-clients/new/",
        {
            "organisation": str(hospital.pk),
            "name": "EHR",
            "allowed_scopes": ["consent.check"],
            "jwks": '{"keys": ' + "[" * 5000 + "]" * 5000 + "}",
        },
    )

    assert response.status_code == 200
    assert "64" in response.context["form"].errors["jwks"][0]
    assert not ApiClient.objects.exists()
