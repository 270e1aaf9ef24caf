"""The API documentation (Swagger UI at /api/docs/, ReDoc at /api/redoc/) works under the site's CSP.

Both pages load everything from this origin (drf-spectacular-sidecar), so the Content-Security-Policy, which
allows no third-party origin and no inline script, does not break them.
"""

from __future__ import annotations

from html.parser import HTMLParser
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
