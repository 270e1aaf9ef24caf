"""``manage.py integrate_logs``: integrate every queued entry and sign checkpoints now (what beat does every
few seconds); also writes any signed checkpoint missing from the checkpoint directory."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from phr.models.tlog import LogName
from phr.tlog.integrate import integrate


class Command(BaseCommand):
    help = "Integrate the queued entries of every tamper-evident log and sign a checkpoint for each."

    def handle(self, *args: Any, **options: Any) -> None:
        for log in LogName:
            added = 0
            while True:
                done = integrate(log)
                added += done.added
                if not done.added:
                    break
            self.stdout.write(f"{log}: {added} entries integrated, {done.size} in the log.")
