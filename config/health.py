"""Liveness and readiness probes for the load balancer and the orchestrator."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app
from phr.tlog.status import stalled_logs


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process answers. Touches nothing else, so a slow database never restarts web workers."""
    return JsonResponse({"status": "ok"})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


def _stalled_logs() -> list[str] | None:
    try:
        return stalled_logs()
    except Exception:
        return None


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """503 when the database or the broker is down. A stalled log integrator is reported ("degraded", the logs
    named) but keeps the answer 200: taking web processes out of rotation would not restart it."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    ready = all(checks.values())
    stalled = _stalled_logs() if checks["database"] else None
    shown = {k: "ok" if v else "fail" for k, v in checks.items()}
    shown["logs"] = "fail" if stalled is None else "stalled" if stalled else "ok"
    status = "unavailable" if not ready else "ok" if shown["logs"] == "ok" else "degraded"
    body: dict[str, object] = {"status": status, "checks": shown}
    if stalled:
        body["stalled_logs"] = stalled
    return JsonResponse(body, status=200 if ready else 503)
