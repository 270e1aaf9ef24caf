"""Fixed-window request counters shared by every worker, with few round trips to the shared store.

Counting each request in Redis costs a network round trip per request, as much as the decision's own
query. Each process therefore counts locally and adds its count to the shared counter in one round trip
(``INCRBY``) every ``1/200`` of the limit or every 250 ms, whichever comes first, and on every request once
the shared total passes 90 % of the limit. A client is thus refused within about half a percent of its limit
per worker, and exactly at the limit when one process serves it. Redis is the shared store when the default
cache is Redis; otherwise the database cache (a read and a write, not atomic: a race can undercount a few).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis import Redis

SYNC_SECONDS = 0.25
SYNC_FRACTION = 200
EXACT_ABOVE = 0.9


@dataclass
class _Window:
    key: str
    known: int = 0  # the shared total at the last sync, this process's requests included
    pending: int = 0  # requests counted here since
    synced_at: float = 0.0


class WindowCounter:
    """``count(key, limit, timeout)``: this request's place in its window, as all workers counted it."""

    def __init__(self) -> None:
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def count(self, key: str, limit: int, timeout: int) -> int:
        with self._lock:
            window = self._windows.get(key)
            if window is None:
                if len(self._windows) > 10_000:
                    self._windows.clear()
                window = self._windows[key] = _Window(key)
            window.pending += 1
            now = time.monotonic()
            estimate = window.known + window.pending
            due = (
                window.pending >= max(1, limit // SYNC_FRACTION)
                or now - window.synced_at >= SYNC_SECONDS
                or estimate >= limit * EXACT_ABOVE
            )
            if not due:
                return estimate
            window.known = _add(key, window.pending, timeout)
            window.pending = 0
            window.synced_at = now
            return window.known

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()


def _add(key: str, amount: int, timeout: int) -> int:
    """Add ``amount`` to the shared counter ``key`` (created with a ``timeout``) and return its total."""
    client = _redis_client()
    if client is not None:
        pipe = client.pipeline(transaction=False)
        pipe.set(key, 0, ex=timeout, nx=True)
        pipe.incrby(key, amount)
        _, total = pipe.execute()
        return int(total)
    backend = caches["default"]
    total = int(backend.get(key, 0)) + amount
    backend.set(key, total, timeout=timeout)
    return total


def shared_total(key: str) -> int:
    """The shared counter ``key`` as every process has added to it so far."""
    client = _redis_client()
    if client is not None:
        return int(client.get(key) or 0)
    return int(caches["default"].get(key, 0))


_redis: list[Redis] = []


def _redis_client() -> Redis | None:
    """A client of the Redis server behind the default cache (None when the cache is not Redis)."""
    if not isinstance(caches["default"], RedisCache):
        return None
    if not _redis:
        _redis.append(Redis.from_url(str(settings.REDIS_URL), socket_timeout=1.0, socket_connect_timeout=1.0))
    return _redis[0]


window_counter = WindowCounter()
