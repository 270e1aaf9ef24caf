"""One gunicorn sync worker on loopback serving a bench module's WSGI app, for the HTTP benches (api, batch).

The worker reads the throw-away test database the bench created (``DATABASE_URL`` pointed at it), keeps its
connection between requests as production does, and has no rate limit in the way of the load.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from http.client import HTTPConnection
from pathlib import Path

from django.conf import settings


def start_worker(app: str, *, timeout: int = 30) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``gunicorn <app>`` (e.g. ``"api:application"``) with one worker; (process, port) once it answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {
        **os.environ,
        "DATABASE_URL": f"{os.environ['DATABASE_URL'].rsplit('/', 1)[0]}/{settings.DATABASES['default']['NAME']}",
        "MAMORI_API_RATE": "100000000/min",
        "DATABASE_CONN_MAX_AGE": "600",
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            *("--chdir", str(Path(__file__).resolve().parent), "--workers", "1", "--timeout", str(timeout)),
            *("--bind", f"127.0.0.1:{port}", "--log-level", "warning", app),
        ],
        env=env,
    )
    for _ in range(100):
        http = HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            http.request("GET", "/healthz")
            http.getresponse().read()
            break
        except OSError:
            time.sleep(0.2)
        finally:
            http.close()
    return server, port
