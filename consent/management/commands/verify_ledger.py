"""``manage.py verify_ledger``: ``verify_log ledger`` under the name the API guide used first."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from phr.management.commands.verify_log import run_verification


class Command(BaseCommand):
    help = "Verify the releases ledger against its newest published checkpoint (same as verify_log ledger)."

    def handle(self, *args: Any, **options: Any) -> None:
        run_verification(self, ["ledger"])
