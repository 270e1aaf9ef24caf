"""Key-encryption keys from configuration: ``kid:base64key[,kid:base64key...]``, the first active."""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from phr.crypto.errors import DecryptionError, KeyConfigurationError

_KID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
NONCE_BYTES = 12


@dataclass(frozen=True)
class Keyring:
    """The configured KEKs by id, and the id new data keys are wrapped with."""

    keys: dict[str, bytes]
    active_id: str

    @classmethod
    def parse(cls, spec: str) -> Keyring:
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for item in (part.strip() for part in spec.split(",")):
            kid, sep, encoded = item.partition(":")
            if not sep or not _KID.match(kid):
                raise KeyConfigurationError("each encryption key must be written kid:base64key")
            try:
                key = strict_b64decode(encoded)
            except (binascii.Error, ValueError) as exc:
                raise KeyConfigurationError(f"key {kid} is not valid base64") from exc
            if len(key) != 32:
                raise KeyConfigurationError(f"key {kid} must be 32 bytes (AES-256), not {len(key)}")
            if kid in keys:
                raise KeyConfigurationError(f"key id {kid} appears twice")
            keys[kid] = key
            order.append(kid)
        if not order:
            raise KeyConfigurationError("no encryption key configured")
        return cls(keys=keys, active_id=order[0])

    def wrap(self, dek: bytes, *, binding: bytes) -> tuple[str, bytes]:
        nonce = os.urandom(NONCE_BYTES)
        kid = self.active_id
        sealed = AESGCM(self.keys[kid]).encrypt(nonce, dek, _wrap_ad(kid, binding))
        return kid, nonce + sealed

    def unwrap(self, kid: str, wrapped: bytes, *, binding: bytes) -> bytes:
        key = self.keys.get(kid)
        if key is None:
            raise KeyConfigurationError(f"key id {kid} is not configured; it is still needed to unwrap data keys")
        try:
            return AESGCM(key).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_ad(kid, binding))
        except InvalidTag as exc:
            raise DecryptionError("data key failed to unwrap") from exc


def strict_b64decode(encoded: str) -> bytes:
    """Decode standard or URL-safe base64, refusing any character outside the alphabet."""
    padded = encoded.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(padded + "=" * (-len(padded) % 4), validate=True)


def _wrap_ad(kid: str, binding: bytes) -> bytes:
    return b"mamori-dek|" + kid.encode("ascii") + b"|" + binding


def generate_key_spec(kid: str) -> str:
    if not _KID.match(kid):
        raise KeyConfigurationError("key id must be 1-32 letters, digits, dot, dash or underscore")
    return f"{kid}:{base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode('ascii')}"


@lru_cache(maxsize=1)
def get_keyring() -> Keyring:
    return Keyring.parse(settings.MAMORI_ENCRYPTION_KEYS)


@receiver(setting_changed)
def _reset(setting: str, **kwargs: object) -> None:
    if setting == "MAMORI_ENCRYPTION_KEYS":
        get_keyring.cache_clear()
