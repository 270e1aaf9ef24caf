"""Receipt-signing keys from the environment: ``MAMORI_RECEIPT_SIGNING_KEYS=kid:base64url-seed,...``.

The first key signs new receipts; the others are kept so their public halves stay published. Each
private key is a 32-byte Ed25519 seed, base64url-encoded. Nothing here touches the database, so
config/settings.py can read and check the keys at start-up.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

_KID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class SigningKeyError(ValueError):
    """The configured signing keys cannot be read."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


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
    keys: list[ReceiptKey] = []
    for item in text.split(","):
        kid, sep, encoded = item.strip().partition(":")
        if not sep or not _KID.match(kid):
            raise SigningKeyError(f"{kid!r} is not a key id followed by ':' (letters, digits, . _ -)")
        try:
            seed = b64url_decode(encoded.strip())
        except ValueError as error:
            raise SigningKeyError(f"key {kid}: not base64url") from error
        if len(seed) != 32:
            raise SigningKeyError(f"key {kid}: an Ed25519 private key is 32 bytes, got {len(seed)}")
        if any(key.key_id == kid for key in keys):
            raise SigningKeyError(f"key id {kid} is given twice")
        keys.append(ReceiptKey(kid, Ed25519PrivateKey.from_private_bytes(seed)))
    if not keys:
        raise SigningKeyError("no signing key")
    return tuple(keys)


def new_key_setting(key_id: str) -> str:
    """A fresh ``kid:seed`` item for the setting."""
    return f"{key_id}:{b64url(os.urandom(32))}"


def development_signing_keys(path: Path) -> str:
    """The development setting, made once under var/ (never used when DJANGO_DEBUG is off)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"receipt_signing_keys": new_key_setting("dev-receipts-1")}, handle)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            tmp.unlink(missing_ok=True)
    value: str = json.loads(path.read_text(encoding="utf-8"))["receipt_signing_keys"]
    return value
