"""Ed25519 keys given as ``kid:base64url(32-byte seed),...`` settings: the first signs, the rest stay published.

Receipts (``MAMORI_RECEIPT_SIGNING_KEYS``) and log checkpoints (``MAMORI_LOG_SIGNING_KEYS``) read their keys
through here. Nothing here touches the database, so config/settings.py can check a setting at start-up.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

_KID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_seeds(text: str, error: type[ValueError]) -> list[tuple[str, bytes]]:
    """Every ``(key id, seed)`` of the setting in order, the signing key first; ``error`` on anything malformed."""
    keys: list[tuple[str, bytes]] = []
    for item in text.split(","):
        kid, sep, encoded = item.strip().partition(":")
        if not sep or not _KID.match(kid):
            raise error(f"{kid!r} is not a key id followed by ':' (letters, digits, . _ -)")
        try:
            seed = b64url_decode(encoded.strip())
        except ValueError as exc:
            raise error(f"key {kid}: not base64url") from exc
        if len(seed) != 32:
            raise error(f"key {kid}: an Ed25519 seed is 32 bytes, got {len(seed)}")
        if any(known == kid for known, _ in keys):
            raise error(f"key id {kid} is given twice")
        keys.append((kid, seed))
    if not keys:
        raise error("no signing key")
    return keys


def new_seed_setting(key_id: str) -> str:
    """A fresh ``kid:seed`` item for such a setting."""
    return f"{key_id}:{b64url(os.urandom(32))}"


def development_setting(path: Path, field: str, key_id: str) -> str:
    """A development setting made once in a JSON file under var/ (never used when DJANGO_DEBUG is off)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({field: new_seed_setting(key_id)}, handle)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            tmp.unlink(missing_ok=True)
    value: str = json.loads(path.read_text(encoding="utf-8"))[field]
    return value
