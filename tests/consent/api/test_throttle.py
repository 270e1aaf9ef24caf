"""The shared per-client request counter: batched per process, never over-counting, exact near the limit."""

from __future__ import annotations

import pytest

from consent.api.throttle import SYNC_FRACTION, WindowCounter, shared_total

pytestmark = pytest.mark.django_db


def test_one_process_is_refused_exactly_past_the_limit() -> None:
    worker = WindowCounter()
    counts = [worker.count("mamori:test:one", 1000, timeout=61) for _ in range(1001)]
    assert counts[:1000] == list(range(1, 1001))
    assert counts[1000] == 1001


def test_two_processes_share_one_counter_and_are_refused_near_the_limit() -> None:
    limit, batch = 2000, 2000 // SYNC_FRACTION
    workers = [WindowCounter(), WindowCounter()]
    allowed = 0
    for n in range(3 * limit):
        if workers[n % 2].count("mamori:test:two", limit, timeout=61) > limit:
            break
        allowed += 1
    # Never more than the limit; fewer only by what the other process had not yet added.
    assert limit - len(workers) * batch <= allowed <= limit


def test_the_shared_total_lags_a_process_by_less_than_one_batch() -> None:
    limit = 100_000
    worker = WindowCounter()
    for n in range(1, 998):
        assert worker.count("mamori:test:sync", limit, timeout=61) == n
        assert n - limit // SYNC_FRACTION < shared_total("mamori:test:sync") <= n
