"""Hash chains over append-only tables: the head of each chain, and the fields a chained row carries."""

from __future__ import annotations

from typing import Any

from django.db import models


class AppendOnlyError(Exception):
    """A chained row may be added, never changed or deleted."""


class ChainHead(models.Model):
    """The last link of one hash chain: its length and hash, so a deleted last row is noticed too."""

    chain = models.CharField(primary_key=True, max_length=100)
    length = models.BigIntegerField(default=0)
    head_hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.chain} ({self.length} rows)"


class ChainedRow(models.Model):
    """A row in a hash chain: ``row_hash`` = SHA-256(canonical JSON of ``chain_payload()`` + ``prev_hash``)."""

    position = models.BigIntegerField(editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    row_hash = models.CharField(max_length=64, editable=False)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows cannot be changed.")
        if not self.row_hash:
            raise AppendOnlyError(f"{type(self).__name__} rows are added through phr.hashchain.append.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{type(self).__name__} rows cannot be deleted.")

    def chain_key(self) -> str:
        raise NotImplementedError

    def chain_payload(self) -> dict[str, Any]:
        raise NotImplementedError
