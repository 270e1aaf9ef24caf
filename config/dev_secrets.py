"""Secrets for development only: made once under var/ so a fresh checkout runs without setup.

Never used when DJANGO_DEBUG is off; production must supply its own (docs/deploy.md).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


def development_secrets(path: Path) -> dict[str, str]:
    if path.exists():
        data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        return data
    data = {
        "secret_key": secrets.token_urlsafe(64),
        "encryption_keys": f"dev1:{_key()}",
        "blind_index_key": _key(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process (worker, beat) made it first: use theirs
    finally:
        tmp.unlink(missing_ok=True)
    result: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return result
