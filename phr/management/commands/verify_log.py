"""``manage.py verify_log ledger|access|audit|--all``: check the logs against their newest published checkpoints."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from phr.models.tlog import LogName
from phr.tlog.verify import Report, verify_log

SHOWN = 20


def run_verification(command: BaseCommand, logs: list[str]) -> None:
    """Verify each log, print what was found (the first bad entry first); CommandError if any log is not intact."""
    broken = []
    for log in logs:
        report = verify_log(log)
        _print(command, report)
        if not report.intact:
            broken.append(log)
    if broken:
        raise CommandError(f"Not intact: {', '.join(broken)}.")


def _print(command: BaseCommand, report: Report) -> None:
    if report.intact:
        newer = f"; {report.newer} newer entries wait for the next checkpoint" if report.newer else ""
        command.stdout.write(
            f"The {report.log} log is intact: {report.checked} entries match checkpoint {report.size}{newer}."
        )
        return
    first = report.problems[0]
    command.stderr.write(f"The {report.log} log is not intact. First bad entry: {first}")
    for problem in report.problems[1:SHOWN]:
        command.stderr.write(f"  also: {problem}")


class Command(BaseCommand):
    help = (
        "Verify tamper-evident logs against the newest checkpoint published outside the database; names the "
        "first bad entry (edited, inserted, deleted in the middle or at the tail, re-hashed) and exits non-zero."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("logs", nargs="*", help=f"the logs to verify: {', '.join(LogName.values)}")
        parser.add_argument("--all", action="store_true", help="verify every log")

    def handle(self, *args: Any, **options: Any) -> None:
        logs = list(LogName.values) if options["all"] else options["logs"]
        unknown = [log for log in logs if log not in LogName.values]
        if not logs or unknown:
            raise CommandError(f"Name a log ({', '.join(LogName.values)}) or give --all.")
        run_verification(self, logs)
