"""Print a new key-encryption key as kid:base64, to prepend to MAMORI_ENCRYPTION_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from phr.crypto.keyring import generate_key_spec


class Command(BaseCommand):
    help = "Print a new 256-bit key-encryption key written kid:base64key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kid", help="key id, e.g. 2026-11")

    def handle(self, *args: Any, kid: str, **options: Any) -> None:
        self.stdout.write(generate_key_spec(kid))
