"""Load the demo: organisations, staff with MFA, fifty citizens, a parent-child and an attorney-elder proxy."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from phr.demo.seed import seed_demo


class Command(BaseCommand):
    help = "Create the demo data. Safe to run again: existing rows are left as they are."

    def handle(self, *args: Any, **options: Any) -> None:
        report = seed_demo()
        made = ", ".join(f"{n} {kind}" for kind, n in sorted(report.created.items())) or "nothing new"
        self.stdout.write(f"demo data ready ({made})")
