"""``manage.py verify_audit_log``: ``verify_log audit`` under the name the deploy guide used first."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from phr.management.commands.verify_log import run_verification


class Command(BaseCommand):
    help = "Verify the audit log against its newest published checkpoint (same as verify_log audit)."

    def handle(self, *args: Any, **options: Any) -> None:
        run_verification(self, ["audit"])
