"""A pull's pages on disk while it runs, so a large record never sits in memory whole.

Each page is appended to a private file under ``var/spool/`` (directory 0700, file 0600), sealed with
AES-GCM under a key that exists only in this process's memory: a file left behind by a worker that died
cannot be read by anyone, and is removed by the next spool opened after ``STALE_AFTER``. The file is
deleted when the spool closes, whether the run succeeded or failed.
"""

from __future__ import annotations

import os
import struct
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

STALE_AFTER_SECONDS = 6 * 3600
_LENGTH = struct.Struct(">Q")
_NONCE_BYTES = 12


def spool_dir() -> Path:
    directory = Path(settings.VAR_DIR) / "spool"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def _remove_stale(directory: Path) -> None:
    cutoff = time.time() - STALE_AFTER_SECONDS
    for path in directory.glob("*.spool"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            continue


class Spool:
    """Pages appended as they arrive, read back in order; ``close`` (or leaving ``with``) deletes the file."""

    def __init__(self) -> None:
        directory = spool_dir()
        _remove_stale(directory)
        self.path = directory / f"{uuid.uuid4()}.spool"
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        self._file: IO[bytes] = os.fdopen(descriptor, "w+b")
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))
        self.pages = 0
        self.bytes_written = 0

    def append(self, data: bytes) -> int:
        """Store one page; returns its number (1, 2, …)."""
        self.pages += 1
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, data, _LENGTH.pack(self.pages))
        self._file.seek(0, os.SEEK_END)
        self._file.write(_LENGTH.pack(len(sealed)) + nonce + sealed)
        self.bytes_written += len(sealed)
        return self.pages

    def read(self) -> Iterator[tuple[int, bytes]]:
        """(number, page) for every page, in the order appended, one at a time."""
        self._file.flush()
        self._file.seek(0)
        for number in range(1, self.pages + 1):
            (length,) = _LENGTH.unpack(self._file.read(_LENGTH.size))
            nonce = self._file.read(_NONCE_BYTES)
            sealed = self._file.read(length)
            position = self._file.tell()
            yield number, self._aead.decrypt(nonce, sealed, _LENGTH.pack(number))
            self._file.seek(position)

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> Spool:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
