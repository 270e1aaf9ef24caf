"""Keyed digests that compare content without revealing it, with keys derived from the blind-index key.

``content_digest`` tells an unchanged resource from a changed one; ``code_digest`` groups and finds
resources by ``system|code`` without decrypting codes. Separate derived keys keep the two (and the
identifier blind index) from being comparable with each other.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from phr.crypto.errors import KeyConfigurationError
from phr.crypto.keyring import strict_b64decode


@lru_cache(maxsize=4)
def _derived_key(label: bytes) -> bytes:
    try:
        base = strict_b64decode(settings.MAMORI_BLIND_INDEX_KEY)
    except (binascii.Error, ValueError) as exc:
        raise KeyConfigurationError("MAMORI_BLIND_INDEX_KEY is not valid base64") from exc
    if len(base) < 32:
        raise KeyConfigurationError("MAMORI_BLIND_INDEX_KEY must be at least 32 bytes")
    return hmac.new(base, b"mamori|derive|" + label, hashlib.sha256).digest()


@lru_cache(maxsize=4)
def _keyed(label: bytes) -> hmac.HMAC:
    """The keyed HMAC before any message: each digest copies it rather than setting up the key again
    (ingest takes two digests a resource)."""
    return hmac.new(_derived_key(label), digestmod=hashlib.sha256)


def _digest(label: bytes, message: bytes) -> str:
    mac = _keyed(label).copy()
    mac.update(message)
    return mac.hexdigest()


def content_digest(raw: bytes) -> str:
    return _digest(b"fhir-content-v1", raw)


def code_digest(system: str, code: str) -> str:
    return _digest(b"code-v1", f"{system}|{code}".encode())


@receiver(setting_changed)
def _reset(setting: str, **kwargs: object) -> None:
    if setting == "MAMORI_BLIND_INDEX_KEY":
        _derived_key.cache_clear()
        _keyed.cache_clear()
