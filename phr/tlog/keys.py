"""Checkpoint-signing keys from ``MAMORI_LOG_SIGNING_KEYS=kid:base64url-seed,...`` and each log's origin.

The first key signs new checkpoints; the others stay published so checkpoints they signed still verify
(rotation). Each key is a 32-byte Ed25519 seed. A checkpoint's signature carries the log's origin as its
key name, as C2SP tlog-checkpoint asks, so one seed gives each log its own verifier key. Nothing here
touches the database, so config/settings.py can check the setting at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from phr.crypto.seed_keys import development_setting, new_seed_setting, parse_seeds


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


def parse_log_signing_keys(text: str) -> tuple[LogSigningKey, ...]:
    """Every key of the setting, the signing key first; LogKeyError on anything malformed."""
    return tuple(LogSigningKey(kid, seed) for kid, seed in parse_seeds(text, LogKeyError))


def new_log_key_setting(key_id: str) -> str:
    """A fresh ``kid:seed`` item for the setting."""
    return new_seed_setting(key_id)


def development_log_signing_keys(path: Path) -> str:
    """The development setting, made once under var/ (never used when DJANGO_DEBUG is off)."""
    return development_setting(path, "log_signing_keys", "dev-logs-1")
