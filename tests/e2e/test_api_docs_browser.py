"""The API documentation renders in a real browser under the site's CSP, from the app's own assets."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_renders_the_api_without_a_csp_violation_or_a_failed_request(
    page: Page, live_server: Any, screenshot: Any
) -> None:
    complaints: list[str] = []
    page.on("console", lambda message: complaints.append(message.text) if message.type == "error" else None)
    page.on("requestfailed", lambda request: complaints.append(f"failed: {request.url}"))

    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
    screenshot("swagger-ui")

    assert page.inner_text(".swagger-ui .info .title").startswith("Mamori API")
    assert page.locator(".swagger-ui .opblock").count() > 5
    assert not [text for text in complaints if "Content Security Policy" in text or "failed:" in text], complaints
