"""Re-wrap every data key under the active key-encryption key, in small batches, online."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from phr.crypto.datakeys import rewrap
from phr.crypto.keyring import get_keyring
from phr.models import DataKey


class Command(BaseCommand):
    help = (
        "Re-wrap data keys under the first key in MAMORI_ENCRYPTION_KEYS. Put the new key first, keep the "
        "old ones listed while this runs (readers still need them), then remove them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        active = get_keyring().active_id
        rewrapped = 0
        while True:
            with transaction.atomic():
                batch = list(
                    DataKey.objects.select_for_update(skip_locked=True)
                    .exclude(kek_id=active)
                    .order_by("id")[:batch_size]
                )
                if not batch:
                    break
                rewrapped += sum(1 for data_key in batch if rewrap(data_key))
        remaining = DataKey.objects.exclude(kek_id=active).count()
        self.stdout.write(f"re-wrapped {rewrapped} data keys under {active}; {remaining} remain under other keys")
