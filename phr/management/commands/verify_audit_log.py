"""``manage.py verify_audit_log``: seal pending audit events (unless --no-seal), then walk their hash chain."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from phr.audit_chain import seal_audit_events, unsealed_count, verify_audit_log


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; exits non-zero if a sealed row was changed, inserted or deleted."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-seal", action="store_true", help="only verify; leave unsealed rows as they are")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_seal"]:
            while seal_audit_events():
                pass
        problems = verify_audit_log()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"The audit log is broken: {len(problems)} problem(s).")
        pending = unsealed_count()
        self.stdout.write("The audit log is intact." + (f" {pending} event(s) not sealed yet." if pending else ""))
