"""Print a new checkpoint-signing key as kid:seed, to put first in MAMORI_LOG_SIGNING_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from phr.tlog.keys import LogKeyError, new_log_key_setting, parse_log_signing_keys


class Command(BaseCommand):
    help = (
        "Print a new Ed25519 checkpoint-signing key written kid:base64url-seed. To rotate, put it first in "
        "MAMORI_LOG_SIGNING_KEYS and restart: it signs new checkpoints, and the old verifier keys stay published."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kid", help="key id, e.g. logs-2026-12")

    def handle(self, *args: Any, kid: str, **options: Any) -> None:
        setting = new_log_key_setting(kid)
        try:
            parse_log_signing_keys(setting)
        except LogKeyError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(setting)
