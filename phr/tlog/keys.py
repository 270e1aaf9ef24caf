"""Checkpoint-signing keys from ``MAMORI_LOG_SIGNING_KEYS=kid:base64url-seed,...`` and each log's origin.

The first key signs new checkpoints; the others stay published so checkpoints they signed still verify
(rotation). Each key is a 32-byte Ed25519 seed. A checkpoint's signature carries the log's origin as its
key name, as C2SP tlog-checkpoint asks, so one seed gives each log its own verifier key. Nothing here
touches the database, so config/settings.py can check the setting at start-up.
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


class LogKeyError(ValueError):
    """The configured checkpoint-signing keys cannot be read."""


@dataclass(frozen=True)
class LogSigningKey:
    """One Ed25519 seed and the id it is configured under."""

    key_id: str
    seed: bytes

    @property
    def public(self) -> bytes:
        private = Ed25519PrivateKey.from_private_bytes(self.seed)
        return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_log_signing_keys(text: str) -> tuple[LogSigningKey, ...]:
    """Every key of the setting, the signing key first; LogKeyError on anything malformed."""
    keys: list[LogSigningKey] = []
    for item in text.split(","):
        kid, sep, encoded = item.strip().partition(":")
        if not sep or not _KID.match(kid):
            raise LogKeyError(f"{kid!r} is not a key id followed by ':' (letters, digits, . _ -)")
        try:
            seed = _b64url_decode(encoded.strip())
        except ValueError as error:
            raise LogKeyError(f"key {kid}: not base64url") from error
        if len(seed) != 32:
            raise LogKeyError(f"key {kid}: an Ed25519 seed is 32 bytes, got {len(seed)}")
        if any(key.key_id == kid for key in keys):
            raise LogKeyError(f"key id {kid} is given twice")
        keys.append(LogSigningKey(kid, seed))
    if not keys:
        raise LogKeyError("no signing key")
    return tuple(keys)


def new_log_key_setting(key_id: str) -> str:
    """A fresh ``kid:seed`` item for the setting."""
    return f"{key_id}:{base64.urlsafe_b64encode(os.urandom(32)).rstrip(b'=').decode('ascii')}"


def development_log_signing_keys(path: Path) -> str:
    """The development setting, made once under var/ (never used when DJANGO_DEBUG is off)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"log_signing_keys": new_log_key_setting("dev-logs-1")}, handle)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            tmp.unlink(missing_ok=True)
    value: str = json.loads(path.read_text(encoding="utf-8"))["log_signing_keys"]
    return value
