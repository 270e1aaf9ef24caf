"""The shared per-client request counter (batched per process, never over-counting, exact near the limit), and
the per-address count of unauthenticated callers, which a client cannot reset by forging X-Forwarded-For."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from consent.api.throttle import SYNC_FRACTION, WindowCounter, shared_total

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]


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


def _token_attempt(client: Client, forwarded_for: str) -> int:
    """A token request with a wrong secret, as a client guessing secrets sends it; its status code."""
    response = client.post(
        "/api/v1/oauth/token",
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"guessed-client:guessed-secret").decode(),
        HTTP_X_FORWARDED_FOR=forwarded_for,
        REMOTE_ADDR="10.0.0.2",
    )
    return response.status_code


def test_a_forged_forwarded_for_does_not_reset_the_token_endpoints_count_without_a_trusted_proxy(
    client: Client, settings
) -> None:
    settings.MAMORI_API_RATE = "3/min"
    statuses = [_token_attempt(client, f"192.0.2.{n}") for n in range(1, 5)]

    assert statuses == [401, 401, 401, 429]


def test_behind_one_trusted_proxy_the_token_endpoint_counts_the_address_the_proxy_saw(client: Client, settings) -> None:
    settings.MAMORI_API_RATE = "3/min"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

    # The proxy appends the address it saw; anything left of it was sent by the client and counts for nothing.
    statuses = [_token_attempt(client, f"192.0.2.{n}, 198.51.100.7") for n in range(1, 5)]
    other_client = _token_attempt(client, "203.0.113.20")

    assert statuses == [401, 401, 401, 429]
    assert other_client == 401


def test_one_trusted_proxy_setting_reaches_sign_in_and_the_api_alike() -> None:
    environment = {**os.environ, "DJANGO_DEBUG": "true", "MAMORI_TRUSTED_PROXY_COUNT": "1"}
    probe = (
        "import django; django.setup(); from rest_framework.settings import api_settings; "
        "from allauth import app_settings; print(app_settings.TRUSTED_PROXY_COUNT, api_settings.NUM_PROXIES)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe],
        env={**environment, "DJANGO_SETTINGS_MODULE": "config.settings"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.split() == ["1", "1"]
