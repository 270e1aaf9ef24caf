"""Copies of every signed checkpoint outside the database, in ``MAMORI_LOG_CHECKPOINT_DIR/<log>/``.

For each checkpoint two files, each written atomically (a temporary file, fsync, rename): ``<size>``, the
signed note as published at /logs/<log>/checkpoint, and ``<size>.leaves``, the leaf hashes (32 bytes each)
of the entries it added since the previous checkpoint. Someone who can rewrite the database cannot forge a
checkpoint, and the leaf hashes, which must reproduce the signed roots, let verification name the first
entry that differs (phr.tlog.verify).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from phr.models.tlog import LogCheckpoint
from phr.tlog import merkle
from phr.tlog.store import read_hashes

LEAVES_SUFFIX = ".leaves"


def log_dir(log: str) -> Path:
    return Path(settings.MAMORI_LOG_CHECKPOINT_DIR) / log


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def published_sizes(log: str) -> list[int]:
    """The sizes of the checkpoints written to the directory, oldest first."""
    directory = log_dir(log)
    if not directory.is_dir():
        return []
    return sorted(int(name) for name in os.listdir(directory) if name.isdigit())


def publish_missing(log: str, *, just_integrated: tuple[int, bytes] | None = None) -> int:
    """Write the checkpoints newer than the newest one in the directory; returns how many were written.

    ``just_integrated`` is (start, leaf hashes) of the integration that just committed, so its leaves need
    not be read back from the database."""
    directory = log_dir(log)
    directory.mkdir(parents=True, exist_ok=True)
    sizes = published_sizes(log)
    newest = sizes[-1] if sizes else -1
    previous = newest if newest >= 0 else 0
    written = 0
    for size, note in (
        LogCheckpoint.objects.filter(log=log, size__gt=newest).order_by("size").values_list("size", "note")
    ):
        if (
            just_integrated is not None
            and just_integrated[0] == previous
            and len(just_integrated[1]) == 32 * (size - previous)
        ):
            leaves = just_integrated[1]
        else:
            leaves = b"".join(read_hashes(log, [merkle.stored_hash_index(0, i) for i in range(previous, size)]))
        _write_atomically(directory / f"{size}{LEAVES_SUFFIX}", leaves)
        # The note last: a checkpoint is only taken as published once its leaves are there.
        _write_atomically(directory / str(size), note.encode())
        previous = size
        written += 1
    if written:
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return written
