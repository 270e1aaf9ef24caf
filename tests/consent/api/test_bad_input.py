"""Bad input sent to the hospital API as an attacker would: deep nesting, oversized bodies, paths that name nothing.

Each answer is a problem+json naming the limit it hit, never a 500 nor Django's HTML error pages.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client, override_settings

from consent.models import Project
from tests.consent.api.hospital import HOSPITAL_SYSTEM, assert_problem, auth, hospital, patients, post_json

__all__ = ["auth", "hospital", "patients"]

pytestmark = pytest.mark.django_db

JSON_BODY_URLS = ["/api/v1/duo/match", "/api/v1/decisions:batch", "/api/v1/releases", "/api/v1/receipts/verify"]
# 5,000 levels in a 10 KB body: enough to exhaust the interpreter's recursion limit in any recursive parser.
DEEP = "[" * 5000 + "]" * 5000
FORM = "application/x-www-form-urlencoded"


def post_raw(client: Client, url: str, body: str | bytes, headers: dict[str, str], **extra: Any) -> Any:
    return client.post(
        url, data=body, content_type="application/json", headers={**headers, "Idempotency-Key": "k-1"}, **extra
    )


def batch(project: Project, *values: str) -> dict[str, Any]:
    return {"project": str(project.pk), "identifiers": [{"system": HOSPITAL_SYSTEM, "value": v} for v in values]}


@pytest.mark.parametrize("url", JSON_BODY_URLS)
def test_a_body_nested_5000_deep_is_a_400_problem_naming_the_limit(client, auth, url):
    response = post_raw(client, url, DEEP, auth)

    body = assert_problem(response, 400)
    assert body["type"] == "tag:mamori,2026:problem/json-too-deep"
    assert "64 levels" in body["detail"]


@pytest.mark.parametrize("url", JSON_BODY_URLS)
def test_an_unclosed_deep_body_is_refused_as_too_deep_too(client, auth, url):
    response = post_raw(client, url, '{"a":' * 5000, auth)

    assert assert_problem(response, 400)["type"] == "tag:mamori,2026:problem/json-too-deep"


def test_brackets_inside_strings_do_not_count_as_nesting(client, auth, patients, study):
    body = batch(study, "P-0001") | {"note": "[" * 5000 + '\\"{' * 100}

    response = post_json(client, "/api/v1/decisions:batch", body, auth)

    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["identifier"]["value"] == "P-0001"


@override_settings(MAMORI_JSON_MAX_DEPTH=8)
def test_the_limit_is_the_setting(client, auth, study):
    body = batch(study, "P-0001") | {"extra": [[[[[[[[["nine"]]]]]]]]]}

    response = post_json(client, "/api/v1/decisions:batch", body, auth)

    assert "8 levels" in assert_problem(response, 400)["detail"]


def test_a_batch_past_djangos_in_memory_cap_but_within_its_own_limit_is_answered(client, auth, patients, study):
    # 3 MB of insignificant whitespace: valid JSON, under the batch limit of 8 MB, over DATA_UPLOAD_MAX_MEMORY_SIZE.
    body = json.dumps(batch(study, "P-0001")) + " " * (3 * 1024 * 1024)

    response = post_raw(client, "/api/v1/decisions:batch", body, auth)

    assert response.status_code == 200, response.content[:300]
    assert [r["identifier"]["value"] for r in response.json()["results"]] == ["P-0001"]


@pytest.mark.parametrize("url", ["/api/v1/decisions:batch", "/api/v1/releases"])
def test_a_batch_body_past_its_limit_is_a_413_problem_naming_the_limit(client, auth, study, url):
    body = json.dumps(batch(study, "P-0001")) + " " * (9 * 1024 * 1024)

    response = post_raw(client, url, body, auth)

    problem = assert_problem(response, 413)
    assert problem["type"] == "tag:mamori,2026:problem/request-too-large"
    assert "8,388,608 bytes" in problem["detail"]


def test_a_public_body_past_its_limit_is_a_413_problem(client):
    response = post_raw(client, "/api/v1/duo/match", json.dumps({"consent": "x" * (3 * 1024 * 1024)}), {})

    assert "65,536 bytes" in assert_problem(response, 413)["detail"]


def test_a_token_request_past_djangos_form_cap_is_a_413_problem(client):
    form = urlencode({"grant_type": "client_credentials", "client_assertion": "x" * (3 * 1024 * 1024)})

    response = client.post("/api/v1/oauth/token", data=form, content_type=FORM)

    problem = assert_problem(response, 413)
    assert problem["type"] == "tag:mamori,2026:problem/request-too-large"


def _segment(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("part", ["header", "claims"])
def test_a_client_assertion_nested_5000_deep_is_refused_as_invalid_client(client, part):
    header, claims = '{"alg":"RS384","typ":"JWT"}', '{"iss":"x","sub":"x"}'
    deep = '{"alg":"RS384","x":' + DEEP + "}"
    token = ".".join([_segment(deep if part == "header" else header), _segment(deep if part == "claims" else claims)])
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": token + ".c2ln",
    }

    response = client.post("/api/v1/oauth/token", data=urlencode(form), content_type=FORM)

    assert response.status_code == 401, response.content
    assert response.json()["error"] == "invalid_client"
    assert "64 levels" in response.json()["error_description"]


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing-here", "/api/v1/decisions/", "/api/v1/bulk-checks/x/y/z", "/fhir/r4/Patient"]
)
def test_an_unknown_api_path_is_a_404_problem(client, path):
    response = client.get(path)

    assert_problem(response, 404)


def test_a_post_to_an_unknown_api_path_is_a_404_problem_not_a_csrf_page():
    response = Client(enforce_csrf_checks=True).post("/api/v1/nothing-here", data="{}", content_type="application/json")

    assert_problem(response, 404)
