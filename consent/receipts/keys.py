"""Receipt-signing keys from the environment: ``MAMORI_RECEIPT_SIGNING_KEYS=kid:base64url-seed,...``.

The first key signs new receipts; the others are kept so their public halves stay published. Each
private key is a 32-byte Ed25519 seed, base64url-encoded. Nothing here touches the database, so
config/settings.py can read and check the keys at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from phr.crypto.seed_keys import b64url, b64url_decode, development_setting, new_seed_setting, parse_seeds

__all__ = ["ReceiptKey", "SigningKeyError", "b64url", "b64url_decode", "new_key_setting", "parse_signing_keys"]


class SigningKeyError(ValueError):
    """The configured signing keys cannot be read."""


@dataclass(frozen=True)
class ReceiptKey:
    """A private signing key and its id."""

    key_id: str
    private: Ed25519PrivateKey

    @property
    def public_b64(self) -> str:
        return b64url(self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def parse_signing_keys(text: str) -> tuple[ReceiptKey, ...]:
    """Every key of the setting, the signing key first; SigningKeyError on anything malformed."""
    return tuple(
        ReceiptKey(kid, Ed25519PrivateKey.from_private_bytes(seed)) for kid, seed in parse_seeds(text, SigningKeyError)
    )


def new_key_setting(key_id: str) -> str:
    """A fresh ``kid:seed`` item for the setting."""
    return new_seed_setting(key_id)


def development_signing_keys(path: Path) -> str:
    """The development setting, made once under var/ (never used when DJANGO_DEBUG is off)."""
    return development_setting(path, "receipt_signing_keys", "dev-receipts-1")
