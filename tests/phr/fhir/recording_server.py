"""A tiny real HTTP server on loopback that records every request it receives and answers canned responses.

It plays the attacker's server (or an internal service the attacker points Mamori at): the SSRF tests assert
what reached it, header by header, and above all that no secret did.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False


class RecordingServer:
    """Answers ``answers[path]`` (404 otherwise) and records each request in ``received``."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: dict[str, Answer] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def json(self, path: str, document: dict[str, Any], *, status: int = 200) -> None:
        self.answers[path] = Answer(status, json.dumps(document).encode(), {"Content-Type": "application/json"})

    def redirect(self, path: str, location: str, *, status: int = 302) -> None:
        self.answers[path] = Answer(status, b"", {"Location": location})

    def big(self, path: str, size: int, *, chunked: bool = False, gzipped: bool = False) -> None:
        body = b"[" + b" " * (size - 2) + b"]"
        headers = {"Content-Type": "application/json"}
        if gzipped:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        self.answers[path] = Answer(200, body, headers, chunked=chunked)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def anything_with(self, needle: str) -> bool:
        """Whether any request carried ``needle`` in its path, a header or its body."""
        with self._lock:
            return any(
                needle in r.path or any(needle in v for v in r.headers.values()) or needle.encode() in r.body
                for r in self.received
            )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with server._lock:
                    server.received.append(Received(self.command, self.path, dict(self.headers.items()), body))
                answer = server.answers.get(self.path.split("?", 1)[0], Answer(404, b'{"error": "not found"}'))
                try:
                    self._answer(answer)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client stopped reading (a size limit): as it should

            def _answer(self, answer: Answer) -> None:
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if answer.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for start in range(0, len(answer.body), 65536):
                        piece = answer.body[start : start + 65536]
                        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                    return
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        return Handler


@pytest.fixture
def recorder() -> Iterator[RecordingServer]:
    """A recording server whose origin is NOT allowed: what Mamori must never reach."""
    server = RecordingServer()
    yield server
    server.stop()


@pytest.fixture
def second_recorder() -> Iterator[RecordingServer]:
    server = RecordingServer()
    yield server
    server.stop()
