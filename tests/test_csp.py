"""Every page carries the strict Content-Security-Policy (self only, no inline script or style)."""

from __future__ import annotations

from dataclasses import asdict

from csp.middleware import PolicyParts
from csp.utils import build_policy
from django.http import HttpResponse
from django.test import Client, RequestFactory

from config.csp import CSPMiddleware


def test_pages_and_api_answers_carry_the_strict_policy(client: Client, db) -> None:
    expected = build_policy(**asdict(PolicyParts()))
    for path in ("/", "/accounts/login/", "/api/v1/projects", "/healthz"):
        policy = client.get(path)["Content-Security-Policy"]
        assert policy == expected, path
    assert "script-src 'self'" in expected and "unsafe-inline" not in expected
    assert "frame-ancestors 'none'" in expected


def test_a_changed_setting_changes_the_header(client: Client, db, settings) -> None:
    client.get("/")  # the policy is built and kept
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert client.get("/")["Content-Security-Policy"] == "default-src 'none'"


def test_a_per_response_change_still_goes_through_django_csp() -> None:
    middleware = CSPMiddleware(lambda request: HttpResponse())
    request = RequestFactory().get("/")
    middleware.process_request(request)
    response = HttpResponse()
    response._csp_replace = {"img-src": ["https://tiles.example"]}  # type: ignore[attr-defined]
    policy = middleware.process_response(request, response)["Content-Security-Policy"]
    assert "img-src https://tiles.example" in policy
    assert "script-src 'self'" in policy
