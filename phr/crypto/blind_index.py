"""HMAC-SHA256 blind indexes: exact lookup of an encrypted identifier without decrypting any row."""

from __future__ import annotations

import binascii
import hashlib
import hmac
import unicodedata
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from phr.crypto.errors import KeyConfigurationError
from phr.crypto.keyring import strict_b64decode


@lru_cache(maxsize=1)
def _key() -> bytes:
    encoded: str = settings.MAMORI_BLIND_INDEX_KEY
    try:
        key = strict_b64decode(encoded)
    except (binascii.Error, ValueError) as exc:
        raise KeyConfigurationError("MAMORI_BLIND_INDEX_KEY is not valid base64") from exc
    if len(key) < 32:
        raise KeyConfigurationError("MAMORI_BLIND_INDEX_KEY must be at least 32 bytes")
    return key


def normalise_identifier_value(value: str) -> str:
    """NFKC folds full-width digits (０１２) to ASCII, as patient numbers arrive in both forms."""
    return unicodedata.normalize("NFKC", value).strip()


def blind_index(system: str, value: str) -> str:
    message = f"{system}\x1f{normalise_identifier_value(value)}".encode()
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


def keyed_blind_index_hmac() -> hmac.HMAC:
    """The keyed HMAC before any message, for paths that index millions of values: ``copy()`` it, then
    ``update(f"{system}\\x1f{normalised value}".encode())``; a copy skips the key schedule of ``hmac.new``."""
    return hmac.new(_key(), digestmod=hashlib.sha256)


@receiver(setting_changed)
def _reset(setting: str, **kwargs: object) -> None:
    if setting == "MAMORI_BLIND_INDEX_KEY":
        _key.cache_clear()
