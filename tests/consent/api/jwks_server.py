"""A real HTTP server on loopback that serves a JWKS (and counts requests), for the JWKS URL tests.

Its origin is added to ``MAMORI_OUTBOUND_ALLOW`` for the test, as an operator would list a local server.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class JwksServer:
    url: str
    origin: str = ""
    document: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    status: int = 200
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def jwks_server(settings) -> Iterator[JwksServer]:
    state = JwksServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            body = json.dumps(state.document).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.origin = f"http://127.0.0.1:{server.server_address[1]}"
    state.url = f"{state.origin}/jwks.json"
    settings.MAMORI_OUTBOUND_ALLOW = [*settings.MAMORI_OUTBOUND_ALLOW, state.origin]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
