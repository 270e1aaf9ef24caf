"""Liveness and readiness probes."""

from __future__ import annotations

import pytest
from django.test import Client

from config.celery import app as celery_app


def test_healthz_answers_without_the_database(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_the_database_and_the_broker(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "broker": "ok", "logs": "ok"}


@pytest.mark.django_db
def test_readyz_says_which_dependency_is_down(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    # Patch the configuration first (monkeypatch restores what it read), then the environment,
    # which Celery consults before its configuration.
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "fail", "logs": "ok"}
