"""Per-process caches of the reference data every decision reads: the regime table and each project's request.

A single decision over the API must not pay a query for tables that change a few times a year (regimes)
or a month (projects). Each worker process keeps them for at most ``settings.MAMORI_REFERENCE_CACHE_SECONDS``
(default 5 s) and drops them at once when a regime or project is saved or deleted in this process (signals
below). A change made by another process is therefore seen within that many seconds by every worker; a
person's own choices are never cached (they are read with each decision).
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from consent.engine import DecisionRequest, RegimeTable
from consent.models import Project, Regime
from consent.selectors import project_request, regime_table


@dataclass(frozen=True)
class ProjectEntry:
    """A project as loaded, with its default decision request (every category it asks for)."""

    project: Project
    request: DecisionRequest

    def request_for(self, categories: list[str] | None) -> DecisionRequest:
        """The request for ``categories`` (None or empty: the project's own)."""
        return replace(self.request, categories=tuple(categories)) if categories else self.request


class _Store:
    """A small time-bounded store: values are reloaded after ``ttl`` seconds or when cleared."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._regimes: tuple[float, RegimeTable] | None = None
        self._projects: dict[uuid.UUID, tuple[float, ProjectEntry | None]] = {}

    @staticmethod
    def ttl() -> float:
        return float(getattr(settings, "MAMORI_REFERENCE_CACHE_SECONDS", 5))

    def clear(self) -> None:
        with self._lock:
            self._regimes = None
            self._projects.clear()

    def regimes(self) -> RegimeTable:
        now = time.monotonic()
        cached = self._regimes
        if cached is not None and now - cached[0] < self.ttl():
            return cached[1]
        table = regime_table()
        with self._lock:
            self._regimes = (now, table)
        return table

    def project(self, project_id: uuid.UUID) -> ProjectEntry | None:
        now = time.monotonic()
        cached = self._projects.get(project_id)
        if cached is not None and now - cached[0] < self.ttl():
            return cached[1]
        project = Project.objects.filter(pk=project_id).first()
        entry = None if project is None else ProjectEntry(project, project_request(project, regimes=self.regimes()))
        with self._lock:
            if len(self._projects) > 10_000:  # an unbounded stream of unknown ids must not grow memory
                self._projects.clear()
            self._projects[project_id] = (now, entry)
        return entry


_store = _Store()


def cached_regime_table() -> RegimeTable:
    """The regime table, at most ``MAMORI_REFERENCE_CACHE_SECONDS`` old."""
    return _store.regimes()


def cached_project(project_id: uuid.UUID) -> ProjectEntry | None:
    """The project with this id and its decision request (None: no such project), at most a few seconds old."""
    return _store.project(project_id)


def clear_reference_cache() -> None:
    _store.clear()


@receiver(post_save, sender=Regime)
@receiver(post_delete, sender=Regime)
@receiver(post_save, sender=Project)
@receiver(post_delete, sender=Project)
def _reference_changed(sender: Any, **kwargs: Any) -> None:
    # Now, and again at commit: a read between the two would otherwise cache the rows from before it.
    _store.clear()
    transaction.on_commit(_store.clear)
