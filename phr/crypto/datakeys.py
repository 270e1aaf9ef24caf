"""Per-person data keys: creating, unwrapping (cached in process), re-wrapping on KEK rotation."""

from __future__ import annotations

import os
import uuid
from functools import lru_cache

from django.db import IntegrityError, transaction
from django.utils import timezone

from phr.crypto.envelope import Sealer, open_sealed, seal, token_key_id
from phr.crypto.keyring import get_keyring
from phr.models import DataKey, Person


def _binding(key_id: uuid.UUID) -> bytes:
    return key_id.bytes


def data_key_for(person: Person) -> DataKey:
    return _get_or_create(person=person)


def system_data_key(label: str) -> DataKey:
    """A data key for secrets that belong to no person (e.g. MFA secrets), found by label."""
    return _get_or_create(label=label)


def _get_or_create(**owner: object) -> DataKey:
    existing = DataKey.objects.filter(**owner).first()
    if existing is not None:
        return existing
    key_id = uuid.uuid4()
    kek_id, wrapped = get_keyring().wrap(os.urandom(32), binding=_binding(key_id))
    try:
        with transaction.atomic():
            return DataKey.objects.create(id=key_id, kek_id=kek_id, wrapped=wrapped, **owner)
    except IntegrityError:
        return DataKey.objects.get(**owner)


@lru_cache(maxsize=8192)
def _unwrap_cached(key_id: uuid.UUID, kek_id: str, wrapped: bytes) -> bytes:
    return get_keyring().unwrap(kek_id, wrapped, binding=_binding(key_id))


def unwrap(data_key: DataKey) -> bytes:
    return _unwrap_cached(data_key.id, data_key.kek_id, bytes(data_key.wrapped))


def encrypt_for_person(person: Person, plaintext: bytes, *, context: str) -> bytes:
    return encrypt_with(data_key_for(person), plaintext, context=context)


def sealer_for(data_key: DataKey) -> Sealer:
    """Seals values with ``data_key`` as ``encrypt_with`` does, unwrapping the key and setting up the cipher once."""
    return Sealer(unwrap(data_key), data_key.id.bytes)


def encrypt_with(data_key: DataKey, plaintext: bytes, *, context: str) -> bytes:
    return seal(plaintext, key=unwrap(data_key), key_id=data_key.id.bytes, context=context)


def decrypt(token: bytes, *, context: str) -> bytes:
    """Open a token sealed by ``encrypt_for_person``; raises DecryptionError, never returns ciphertext."""
    token = bytes(token)
    data_key = DataKey.objects.get(id=uuid.UUID(bytes=token_key_id(token)))
    return open_sealed(token, key=unwrap(data_key), context=context)


def rewrap(data_key: DataKey) -> bool:
    """Re-wrap one data key under the active KEK; returns False when it already is."""
    keyring = get_keyring()
    if data_key.kek_id == keyring.active_id:
        return False
    dek = keyring.unwrap(data_key.kek_id, bytes(data_key.wrapped), binding=_binding(data_key.id))
    data_key.kek_id, data_key.wrapped = keyring.wrap(dek, binding=_binding(data_key.id))
    data_key.rewrapped_at = timezone.now()
    data_key.save(update_fields=["kek_id", "wrapped", "rewrapped_at"])
    return True


def clear_cache() -> None:
    _unwrap_cached.cache_clear()
