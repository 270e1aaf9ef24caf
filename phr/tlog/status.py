"""How the logs' integration stands: shown on /readyz and to operator staff (a stalled integrator)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone

from phr.models.tlog import LogEntry, LogName, LogState


@dataclass(frozen=True)
class LogStatus:
    """One log: its integrated size, when it was last integrated, what waits, and whether that is too long."""

    log: str
    size: int
    integrated_at: datetime | None
    queued: int
    oldest_queued_at: datetime | None
    stalled: bool


def log_statuses(*, now: datetime | None = None) -> list[LogStatus]:
    """Every log's status; stalled when an entry has been queued longer than ``MAMORI_LOG_STALL_SECONDS``."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.MAMORI_LOG_STALL_SECONDS)
    states = {state.log: state for state in LogState.objects.all()}
    queued = {
        row["log"]: row
        for row in LogEntry.objects.filter(index__isnull=True)
        .values("log")
        .annotate(count=Count("id"), oldest=Min("sequenced_at"))
        .order_by()
    }
    statuses = []
    for log in LogName:
        state, waiting = states.get(log), queued.get(log, {})
        oldest = waiting.get("oldest")
        statuses.append(
            LogStatus(
                log=log,
                size=state.size if state else 0,
                integrated_at=state.integrated_at if state else None,
                queued=waiting.get("count", 0),
                oldest_queued_at=oldest,
                stalled=oldest is not None and oldest < cutoff,
            )
        )
    return statuses


def stalled_logs() -> list[str]:
    """The names of the logs whose integrator has stalled."""
    return [status.log for status in log_statuses() if status.stalled]
