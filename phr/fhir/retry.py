"""When to try a request again: 429 and 5xx answers and dropped connections, with bounded, growing waits.

A server's Retry-After (seconds or an HTTP date) is honoured up to ``max_delay``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header, or None when it is absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """At most ``attempts`` tries of one request; waits double from ``base_delay`` up to ``max_delay``."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """The wait before try number ``attempt + 1`` (``attempt`` counts from 1)."""
        asked = parse_retry_after(retry_after)
        if asked is not None:
            return min(asked, self.max_delay)
        return float(min(self.base_delay * 2 ** (attempt - 1), self.max_delay))
