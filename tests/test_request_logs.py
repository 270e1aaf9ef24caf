"""Access logs of every server we run keep no share token, account key, identifier, query string or search term.

Each test requests the URLs an attacker with log access would want (a live share link, a hospital decision
query naming a patient, a search) through a real server and reads the log lines that server wrote.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer, get_internal_wsgi_application
from django.urls import URLPattern, URLResolver, get_resolver

from config.logging import redact
from phr.categories import DataCategory
from phr.models import Person
from phr.records import sharing

ROOT = Path(__file__).resolve().parent.parent
PATIENT_NUMBER = "P-48213977"
SEARCH_TERM = "tanaka-hanako"
QUERY_URL = f"/api/v1/decisions?identifier=urn:oid:1.2.392.1|{PATIENT_NUMBER}&project=PRJ-1&q={SEARCH_TERM}"
# allauth's URLs whose path carries a one-time key (a lab's "key" in portal URLs is no secret).
ACCOUNT_KEY_URLS = {"account_confirm_email", "account_reset_password_from_key"}
RESET_KEY = "d2c9-5f3e1c0a8b7d6e5f4a3b2c1d0e9f8a7b"


def _secrets(token: str) -> list[str]:
    return [token, PATIENT_NUMBER, SEARCH_TERM, RESET_KEY.split("-", 1)[1], "identifier=", "q="]


def _urls(token: str) -> list[str]:
    return [
        f"/share/{token}/",
        f"/share/{token}/print/",
        f"/share/{token}x/",  # a mistyped link: a 404 that Django's request logger reports too
        QUERY_URL,
        f"/accounts/password/reset/key/{RESET_KEY}/",
    ]


def _get(base: str, path: str, headers: dict[str, str] | None = None) -> int:
    return httpx.get(base + path, headers=headers, timeout=30).status_code


# Committed rows: the servers below read them from another thread or process.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def share_token(alice: Person) -> str:
    assert alice.user is not None
    _link, token = sharing.create_share_link(
        person=alice, actor=alice.user, label="Dr Ito", days=1, categories=[DataCategory.ALLERGIES]
    )
    return token


@contextmanager
def _console_log() -> Iterator[io.StringIO]:
    """Everything the log handlers of runserver's and Django's loggers write, captured in one stream."""
    loggers = [logging.getLogger(name) for name in ("django.server", "django.request", "django", "")]
    handlers = {h for logger in loggers for h in logger.handlers if isinstance(h, logging.StreamHandler)}
    assert logging.getLogger("django.server").handlers, "django.server has no handler of its own"
    stream = io.StringIO()
    previous = {handler: handler.setStream(stream) for handler in handlers}
    try:
        yield stream
    finally:
        for handler, old in previous.items():
            if old is not None:
                handler.setStream(old)


@contextmanager
def _development_server(application: WSGIHandler) -> Iterator[str]:
    """runserver's own server and request handler, serving the project's WSGI application on a free port."""
    server = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    server.set_app(application)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        # One request at a time in this thread: when shutdown returns, every line has been logged.
        server.shutdown()
        server.server_close()


def test_the_development_servers_access_log_keeps_no_share_token_identifier_or_search_term(
    share_token: str, settings
) -> None:
    settings.DEBUG = True  # as under runserver: Django's own development handlers log too
    # Loading the application sets logging up afresh (config/wsgi.py), so load it before capturing.
    application = get_internal_wsgi_application()
    with _console_log() as log, _development_server(application) as base:
        statuses = [_get(base, path) for path in _urls(share_token)]
    lines = log.getvalue().splitlines()

    assert statuses[0] == 200 and statuses[2] == 404
    server_lines = [line for line in lines if '"django.server"' in line]
    assert len(server_lines) == len(statuses)
    assert '"GET /share/[redacted]/ HTTP/1.1\\" 200' in server_lines[0]
    assert '"GET /api/v1/decisions?[redacted] HTTP/1.1\\"' in server_lines[3]
    for secret in _secrets(share_token):
        assert secret not in log.getvalue()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(base: str, process: subprocess.Popen[bytes], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}")
        try:
            _get(base, "/healthz")
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer")


def test_gunicorn_with_the_documented_configuration_logs_no_share_token_identifier_or_search_term(
    share_token: str, tmp_path: Path, settings
) -> None:
    access_log, error_log, port = tmp_path / "access.log", tmp_path / "error.log", _free_port()
    application_log = tmp_path / "stderr.log"
    environment = {**os.environ, "DJANGO_DEBUG": "true", "MAMORI_VAR_DIR": str(tmp_path / "var")}
    database = settings.DATABASES["default"]
    shares_database = database["ENGINE"].endswith("postgresql")
    if shares_database:
        # Serve the test database, so that the share link is live and its page answers 200.
        user = database["USER"] or "postgres"
        environment["DATABASE_URL"] = f"postgresql://{user}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        *("-c", "config/gunicorn.py", "--bind", f"127.0.0.1:{port}", "--workers", "1"),
        *("--access-logfile", str(access_log), "--error-logfile", str(error_log)),
    ]
    with application_log.open("wb") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=stderr, stderr=stderr)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base, process)
        statuses = [_get(base, path) for path in _urls(share_token)]
    finally:
        process.terminate()
        process.wait(timeout=30)

    if shares_database:
        assert statuses[:3] == [200, 200, 404]
    lines = access_log.read_text().splitlines()
    requests = [line for line in lines if "/healthz" not in line]
    assert len(requests) == len(_urls(share_token)), lines
    assert '"GET /share/[redacted]/"' in requests[0]
    assert '"GET /api/v1/decisions"' in requests[3]
    for secret in _secrets(share_token):
        assert secret not in access_log.read_text()
        assert secret not in error_log.read_text()
        assert secret not in application_log.read_text()


def test_gunicorn_redacts_the_referer_query_and_cookies_whatever_access_format_an_operator_picks(
    share_token: str, tmp_path: Path
) -> None:
    access_log, port = tmp_path / "access.log", _free_port()
    everything = "%(r)s %(q)s %(f)s %({cookie}i)s %({authorization}i)s %({raw_uri}e)s"
    environment = {**os.environ, "DJANGO_DEBUG": "true", "MAMORI_VAR_DIR": str(tmp_path / "var")}
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        *("-c", "config/gunicorn.py", "--bind", f"127.0.0.1:{port}", "--workers", "1"),
        *("--access-logfile", str(access_log), "--access-logformat", everything),
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base, process)
        headers = {
            "Referer": f"{base}/share/{share_token}/?from={SEARCH_TERM}",
            "Cookie": "sessionid=s3ss10n-s3cr3t",
            "Authorization": "Bearer acc3ss-t0k3n",
        }
        _get(base, QUERY_URL, headers)
    finally:
        process.terminate()
        process.wait(timeout=30)

    text = access_log.read_text()
    assert "/api/v1/decisions?[redacted]" in text and "/share/[redacted]/?[redacted]" in text
    for secret in [*_secrets(share_token), "s3ss10n-s3cr3t", "acc3ss-t0k3n"]:
        assert secret not in text


def _patterns(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def test_every_url_whose_path_carries_a_token_or_account_key_is_redacted_in_logs() -> None:
    """A new URL with a secret in its path must be added to config.logging, or this test fails."""
    secret = "Zq9xK2mW7pL4vN8rT3sY6uB1cE5hJ0gF"
    checked = []
    for route, entry in _patterns(get_resolver()):
        names = set(entry.pattern.regex.groupindex)
        if "token" not in names and entry.name not in ACCOUNT_KEY_URLS:
            continue
        path = "/" + route.replace("^", "").replace("$", "")
        for name in entry.pattern.regex.groupindex:
            value = secret if name in {"token", "key"} else "1"
            path = path.replace(f"<str:{name}>", value).replace(f"<{name}>", value)
            path = path.replace(f"(?P<{name}>[0-9A-Za-z]+)", value).replace(f"(?P<{name}>.+)", value)
            path = path.replace(f"(?P<{name}>[-:\\w]+)", value)
        assert secret in path, f"cannot build a sample path for {route}"
        assert secret not in redact(f'"GET {path} HTTP/1.1" 200'), route
        checked.append(route)
    assert any("share/" in route for route in checked)
    assert len([route for route in checked if "accounts/" in route]) == len(ACCOUNT_KEY_URLS)
