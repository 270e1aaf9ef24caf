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


def content_digest(raw: bytes) -> str:
    return hmac.new(_derived_key(b"fhir-content-v1"), raw, hashlib.sha256).hexdigest()


def code_digest(system: str, code: str) -> str:
    return hmac.new(_derived_key(b"code-v1"), f"{system}|{code}".encode(), hashlib.sha256).hexdigest()


@receiver(setting_changed)
def _reset(setting: str, **kwargs: object) -> None:
    if setting == "MAMORI_BLIND_INDEX_KEY":
        _derived_key.cache_clear()
