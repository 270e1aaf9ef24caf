"""Real peers on loopback for the FHIR tests: a sekmet-fhir server process and a small fault-injecting proxy.

The proxy stands where a hospital's network would: it forwards every request to the real server and, when a
test asks, answers 429 with Retry-After, or behaves like a server that died (drops the connection).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

CLIENT_ID = "mamori-test"
LOADER_TOKEN = "test-loader-token-not-for-mamori"
# Access tokens the test SMART authorisation server hands out and the FHIR server accepts (a shared pool
# stands in for the token introspection a real hospital's servers share).
PATIENT_ACCESS_TOKENS = [f"patient-access-{n:02d}-{'x' * 24}" for n in range(40)]
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sekmet_available() -> bool:
    try:
        import sekmet  # noqa: F401
    except ImportError:
        return False
    return True


def write_keys(directory: Path) -> dict[str, Path]:
    """An RSA key (RS384) and a P-384 key (ES384) for the client, PEM files, and a third one nobody trusts."""
    directory.mkdir(parents=True, exist_ok=True)
    keys: dict[str, Any] = {
        "RS384": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ES384": ec.generate_private_key(ec.SECP384R1()),
        "untrusted": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    }
    paths = {}
    for name, key in keys.items():
        path = directory / f"{name}.pem"
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        paths[name] = path
    return paths


def client_id_for(alg: str) -> str:
    """One client per key type: sekmet tries every registered key and errors on an RSA key for an ES384 JWT."""
    return CLIENT_ID if alg == "RS384" else f"{CLIENT_ID}-{alg.lower()}"


def public_jwks(paths: dict[str, Path], names: tuple[str, ...]) -> dict[str, Any]:
    jwks = []
    for name in names:
        key = serialization.load_pem_private_key(paths[name].read_bytes(), password=None)
        algorithm = RSAAlgorithm if name == "RS384" else ECAlgorithm
        jwk = json.loads(algorithm.to_jwk(key.public_key()))  # type: ignore[arg-type]
        jwk.update({"alg": name, "kid": name.lower(), "use": "sig"})
        jwks.append(jwk)
    return {"keys": jwks}


@dataclass
class SekmetServer:
    """A sekmet-fhir process on ``port``; it names itself by the proxy's address so its links point there."""

    workdir: Path
    port: int
    public_port: int
    auth: str = "smart"
    keys: dict[str, Path] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.public_port}/fhir"

    @property
    def direct_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/fhir"

    def configure(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.keys:
            self.keys = write_keys(self.workdir / "keys")
        server_auth: dict[str, Any] = {"types": ["none"]}
        if self.auth == "smart":
            server_auth = {
                # The loader writes with a static token; Mamori must earn a SMART token like any client.
                "types": ["smart", "bearer"],
                "tokens": [LOADER_TOKEN, *PATIENT_ACCESS_TOKENS],
                "smart_clients": [
                    {"client_id": client_id_for(alg), "jwks": public_jwks(self.keys, (alg,)), "scopes": "system/*.rs"}
                    for alg in ("RS384", "ES384")
                ],
                "token_lifetime": 3600,
            }
        config = {
            "base_url": self.base_url,
            "host": "127.0.0.1",
            "port": self.port,
            "data_dir": str(self.workdir),
            "db_path": str(self.workdir / "sekmet.db"),
            "facility_name": "Mamori test hospital",
            "own_private_key_path": str(self.workdir / "keys" / "sekmet_own.pem"),
            "server_auth": server_auth,
            "validation": {"inbound": "warn"},
            "simulator": {"enabled": False},
            "log_inbound": False,
        }
        (self.workdir / "settings.yaml").write_text(json.dumps(config))

    def start(self) -> None:
        if not (self.workdir / "settings.yaml").exists():
            self.configure()
        env = {**os.environ, "SEKMET_CONFIG": str(self.workdir / "settings.yaml")}
        log = (self.workdir / "server.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "sekmet.main:app_factory", "--factory", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning"],
            cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sekmet-fhir exited: {(self.workdir / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.direct_url}/metadata", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError("sekmet-fhir did not start within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """Die at once, as a crashed server does."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def transaction(self, bundle: dict[str, Any]) -> dict[str, Any]:
        """POST a transaction straight to the server (not through the proxy, so it is not counted)."""
        response = httpx.post(
            self.direct_url,
            json=bundle,
            headers={"Content-Type": "application/fhir+json", **self._admin_headers()},
            timeout=60,
        )
        assert response.status_code == 200, response.text[:1000]
        return response.json()

    def put(self, resource: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.direct_url}/{resource['resourceType']}/{resource['id']}"
        response = httpx.put(
            url, json=resource, headers={"Content-Type": "application/fhir+json", **self._admin_headers()}, timeout=30
        )
        assert response.status_code in (200, 201), response.text[:1000]
        return response.json()

    def _admin_headers(self) -> dict[str, str]:
        if self.auth != "smart":
            return {}
        return {"Authorization": f"Bearer {LOADER_TOKEN}"}

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


@dataclass
class Fault:
    """A canned answer instead of forwarding: ``status`` 0 means drop the connection with no answer;
    ``hang`` seconds of silence come first (a server that stopped answering)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    matches: Callable[[str], bool] = field(default=lambda path: True)
    hang: float = 0.0


class FaultProxy:
    """Forwards loopback HTTP to the real server; logs every request; injects faults on request."""

    def __init__(self, port: int, upstream_port: int) -> None:
        self.port = port
        self.upstream_port = upstream_port
        self.log: list[tuple[str, str]] = []
        self.bodies: list[bytes] = []
        self.faults: list[Fault] = []
        # Answers the proxy gives itself for a path (e.g. a SMART configuration naming another auth server).
        self.overrides: dict[str, dict[str, Any]] = {}
        self.on_request: Callable[[str, str], None] | None = None
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.log.clear()
            self.bodies.clear()
            self.faults.clear()
            self.overrides.clear()
            self.on_request = None

    def paths(self) -> list[str]:
        with self._lock:
            return [path for _method, path in self.log]

    def _next_fault(self, path: str) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self.faults):
                if fault.matches(path):
                    return self.faults.pop(index)
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy._lock:
                    proxy.log.append((self.command, self.path))
                    proxy.bodies.append(body)
                if proxy.on_request is not None:
                    proxy.on_request(self.command, self.path)
                override = proxy.overrides.get(self.path)
                if override is not None:
                    payload = json.dumps(override).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                fault = proxy._next_fault(self.path)
                if fault is not None:
                    if fault.hang:
                        time.sleep(fault.hang)
                    if fault.status == 0:
                        self.close_connection = True
                        return
                    payload = b'{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"throttled"}]}'
                    self.send_response(fault.status)
                    for name, value in fault.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/fhir+json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
                    upstream.request(self.command, self.path, body=body or None, headers=headers)
                    response = upstream.getresponse()
                    payload = response.read()
                except OSError:
                    # The server is gone: answer nothing, as a dead host would.
                    self.close_connection = True
                    return
                finally:
                    upstream.close()
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        return Handler
