"""Property-based contract test of the whole OpenAPI schema: no 5xx, and every documented answer valid.

Schemathesis reads /api/schema/ from the WSGI app in-process and calls every operation with generated
input, authenticated with a token carrying every scope, against personas linked to a hospital.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.consent.api.hospital import auth, hospital, other_hospital, patients

__all__ = ["auth", "hospital", "other_hospital", "patients"]


@pytest.fixture
def api_schema(db) -> Iterator[Any]:
    """The schema, read from the app; the handler must not close the test's connection after each request
    (as Django's test client arranges for itself)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path, monkeypatch):
    """Bulk uploads land in a temporary var/ and are not queued; the rate limit is out of the way."""
    from consent.bulk import jobs

    settings.VAR_DIR = tmp_path
    settings.MAMORI_API_RATE = "1000000/min"
    monkeypatch.setattr(jobs, "_enqueue", lambda job_id: None)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_without_5xx_and_as_documented(case, auth, patients, study):
    case.call_and_validate(
        headers=auth,
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
