"""Print a new receipt-signing key as kid:seed, to put first in MAMORI_RECEIPT_SIGNING_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.receipts.keys import SigningKeyError, new_key_setting, parse_signing_keys


class Command(BaseCommand):
    help = (
        "Print a new Ed25519 receipt-signing key written kid:base64url-seed. To rotate, put it first in "
        "MAMORI_RECEIPT_SIGNING_KEYS and restart: it signs new receipts, and the old public keys stay published."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kid", help="key id, e.g. receipts-2026-11")

    def handle(self, *args: Any, kid: str, **options: Any) -> None:
        setting = new_key_setting(kid)
        try:
            parse_signing_keys(setting)
        except SigningKeyError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(setting)
