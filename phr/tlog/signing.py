"""Signing and opening the logs' checkpoints with the configured keys (C2SP tlog-checkpoint signed notes).

A log's origin is ``MAMORI_LOG_ORIGIN_PREFIX`` + its name; the signature's key name is the origin, so the
verifier keys differ per log although the seeds are shared. The first configured key signs; every key's
verifier stays published.
"""

from __future__ import annotations

from django.conf import settings

from phr.tlog import note
from phr.tlog.checkpoint import Checkpoint
from phr.tlog.keys import LogSigningKey, parse_log_signing_keys


class CheckpointError(ValueError):
    """A checkpoint that does not open with the published keys, or is not a checkpoint of this log."""


def origin(log: str) -> str:
    return f"{settings.MAMORI_LOG_ORIGIN_PREFIX}{log}"


def _keys() -> tuple[LogSigningKey, ...]:
    return parse_log_signing_keys(settings.MAMORI_LOG_SIGNING_KEYS)


def verifier_keys(log: str) -> list[str]:
    """Every published verifier key of ``log`` (``name+hash+base64``), the signing one first."""
    return [note.verifier_key(origin(log), key.public) for key in _keys()]


def sign_checkpoint(log: str, size: int, root_hash: bytes) -> tuple[str, str]:
    """The signed checkpoint note of ``log`` at ``size``, and the id of the key that signed it."""
    key = _keys()[0]
    signer = note.parse_signer_key(note.signer_key(origin(log), key.seed))
    text = Checkpoint(origin(log), size, root_hash).text()
    return note.sign_note(text, [signer]), key.key_id


def open_checkpoint(log: str, signed: str) -> Checkpoint:
    """The checkpoint in a signed note, if a published key of ``log`` signed it; CheckpointError if not."""
    try:
        text = note.open_note(signed, verifier_keys(log))
        checkpoint = Checkpoint.parse(text)
    except ValueError as error:
        raise CheckpointError(str(error)) from error
    if checkpoint.origin != origin(log):
        raise CheckpointError(f"the checkpoint is of {checkpoint.origin!r}, not {origin(log)!r}")
    return checkpoint
