"""A small OAuth 2 authorisation server for SMART standalone launch tests, on loopback over real HTTP.

It checks what a hospital's server checks: the registered client and redirect URI, S256 PKCE (the verifier
must hash to the challenge), single-use codes, and refresh-token rotation (an old refresh token is refused).
The /authorize step approves at once, standing in for the person signing in at the hospital and allowing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.phr.fhir.peers import free_port


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    scope: str
    patient: str
    used: bool = False


@dataclass
class SmartAuthServer:
    client_id: str
    redirect_uri: str
    patient: str = "smart-patient-1"
    port: int = field(default_factory=free_port)
    codes: dict[str, Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # live refresh token -> scope
    issued_access: list[str] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    audience: str = ""  # the FHIR base URL tokens are for; this server's own /fhir when empty
    access_pool: list[str] = field(default_factory=list)  # tokens to hand out first (a FHIR server knows them)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/fhir"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def revoke_all(self) -> None:
        """The hospital withdraws every grant (the person revoked it there)."""
        with self._lock:
            self.refresh_tokens.clear()

    # --- protocol ---

    def smart_configuration(self) -> dict[str, Any]:
        return {
            "authorization_endpoint": f"{self.root}/authorize",
            "token_endpoint": f"{self.root}/token",
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "capabilities": ["launch-standalone", "client-public", "context-standalone-patient", "permission-v2",
                             "permission-offline"],
        }  # fmt: skip

    def capability(self) -> dict[str, Any]:
        return {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "kind": "instance",
            "fhirVersion": "4.0.1",
            "format": ["json"],
            "rest": [{"mode": "server", "resource": [{"type": "Patient", "interaction": [{"code": "read"}]}]}],
        }

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any] | None]:
        problems = []
        if query.get("response_type") != "code":
            problems.append("response_type must be code")
        if query.get("client_id") != self.client_id:
            problems.append("unknown client")
        if query.get("redirect_uri") != self.redirect_uri:
            problems.append("redirect_uri is not registered")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            problems.append("PKCE with S256 is required")
        if not query.get("state"):
            problems.append("state is required")
        if query.get("aud") != (self.audience or self.base_url):
            problems.append("aud must be the FHIR base URL")
        if problems:
            return 400, {}, {"error": "invalid_request", "error_description": "; ".join(problems)}
        code = secrets.token_urlsafe(24)
        with self._lock:
            self.codes[code] = Grant(
                client_id=query["client_id"],
                redirect_uri=query["redirect_uri"],
                challenge=query["code_challenge"],
                scope=query.get("scope", ""),
                patient=self.patient,
            )
        location = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        return 302, {"Location": location}, None

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.token_requests.append(dict(form))
            if form.get("grant_type") == "authorization_code":
                return self._exchange_code(form)
            if form.get("grant_type") == "refresh_token":
                return self._rotate(form)
        return 400, {"error": "unsupported_grant_type"}

    def _exchange_code(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = self.codes.get(form.get("code", ""))
        if grant is None or grant.used:
            return 400, {"error": "invalid_grant", "error_description": "unknown or used code"}
        if form.get("client_id") != grant.client_id or form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant", "error_description": "client or redirect_uri mismatch"}
        verifier = form.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not verifier or not hmac.compare_digest(digest, grant.challenge):
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        grant.used = True
        return 200, self._issue(grant.scope, patient=grant.patient)

    def _rotate(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        scope = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
        if scope is None:
            return 400, {"error": "invalid_grant", "error_description": "refresh token is not valid"}
        return 200, self._issue(scope, patient=self.patient)

    def _issue(self, scope: str, *, patient: str) -> dict[str, Any]:
        access = self.access_pool.pop(0) if self.access_pool else secrets.token_urlsafe(32)
        refresh = secrets.token_urlsafe(32)
        self.issued_access.append(access)
        self.refresh_tokens[refresh] = scope
        return {"access_token": access, "token_type": "Bearer", "expires_in": 3600, "scope": scope,
                "patient": patient, "refresh_token": refresh}  # fmt: skip

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _send(self, status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None) -> None:
                payload = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/fhir/.well-known/smart-configuration":
                    self._send(200, server.smart_configuration())
                elif url.path == "/fhir/metadata":
                    self._send(200, server.capability())
                elif url.path == "/authorize":
                    status, headers, body = server.authorize(query)
                    self._send(status, body, headers)
                else:
                    self._send(404, {"error": "not_found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlsplit(self.path).path != "/token":
                    self._send(404, {"error": "not_found"})
                    return
                status, body = server.token(form)
                self._send(status, body)

        return Handler
