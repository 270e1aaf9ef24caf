"""``manage.py verify_access_log``: walk every person's access-log hash chain and report any tampering."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from phr.records.access_log import verify_access_log


class Command(BaseCommand):
    help = "Verify the record-access log's hash chains; exits non-zero if a row was changed, inserted or deleted."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = verify_access_log()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"The access log is broken: {len(problems)} problem(s).")
        self.stdout.write("The access log is intact.")
