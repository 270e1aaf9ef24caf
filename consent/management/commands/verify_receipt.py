"""Verify a downloaded consent receipt against the published signing keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.receipts.signing import verify_bytes


class Command(BaseCommand):
    help = "Check the Ed25519 signature of a consent receipt file (JSON as downloaded)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the receipt JSON file")

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror}") from error
        result = verify_bytes(data)
        if not result.valid:
            raise CommandError(f"INVALID: {result.problem}")
        self.stdout.write(f"VALID: record {result.record_id} signed with key {result.key_id}")
