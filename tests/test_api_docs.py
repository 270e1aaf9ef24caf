"""The API documentation (Swagger UI at /api/docs/, ReDoc at /api/redoc/) works under the site's CSP.

Both pages load everything from this origin (drf-spectacular-sidecar), so the Content-Security-Policy, which
allows no third-party origin and no inline script, does not break them.
"""

from __future__ import annotations

import os
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"


class _Assets(HTMLParser):
    """Every URL a page loads: script sources, stylesheets and icons, and any inline script or style."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            if found.get("src"):
                self.urls.append(str(found["src"]))
            else:
                self._open = tag
        elif tag == "link" and found.get("href"):
            self.urls.append(str(found["href"]))
        elif tag == "style":
            self._open = tag

    def handle_data(self, data: str) -> None:
        if self._open and data.strip():
            self.inline.append(f"<{self._open}>{data.strip()[:60]}")

    def handle_endtag(self, tag: str) -> None:
        self._open = None


def _assets(html: str) -> _Assets:
    parser = _Assets()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_api_documentation_loads_only_same_origin_assets_and_each_is_served(live_server: Any, page: str) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        response = http.get(page)
        assets = _assets(response.text)
        served = {url: http.get(url) for url in assets.urls}

    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert assets.urls, "the page loads no script or stylesheet"
    assert all(url.startswith("/") and not url.startswith("//") for url in assets.urls), assets.urls
    assert assets.inline == []
    assert {url: r.status_code for url, r in served.items()} == dict.fromkeys(assets.urls, 200)
    scripts = [r for url, r in served.items() if ".js" in url or "script" in url]
    assert scripts and all("javascript" in r.headers["Content-Type"] for r in scripts)


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"needs Debian chromium at {CHROMIUM}")
def test_swagger_ui_renders_the_api_in_a_browser_without_a_csp_violation(live_server: Any, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    complaints: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.on("console", lambda message: complaints.append(message.text) if message.type == "error" else None)
            page.on("requestfailed", lambda request: complaints.append(f"failed: {request.url}"))
            page.goto(f"{live_server.url}/api/docs/")
            page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
            title = page.inner_text(".swagger-ui .info .title")
            operations = page.locator(".swagger-ui .opblock").count()
            page.screenshot(path=str(tmp_path / "api-docs.png"))
        finally:
            browser.close()

    assert title.startswith("Mamori API")
    assert operations > 5
    assert not [text for text in complaints if "Content Security Policy" in text or "failed:" in text], complaints
