"""``manage.py verify_ledger``: walk the releases ledger's hash chain and report any changed or deleted row."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from consent.bulk.releases import verify_ledger


class Command(BaseCommand):
    help = "Verify the releases ledger's hash chain; exits non-zero if a row was changed or deleted."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = verify_ledger()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"The ledger is broken: {len(problems)} problem(s).")
        self.stdout.write("The ledger is intact.")
