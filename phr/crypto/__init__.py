"""Encryption at rest: AES-GCM envelope encryption and HMAC blind indexes.

Key hierarchy: key-encryption keys (KEKs) come from the environment (``MAMORI_ENCRYPTION_KEYS``);
each person has a data key (DEK) stored wrapped by the active KEK in ``phr.DataKey``. Values are
sealed with a DEK and associated data naming their row and column, so a ciphertext copied to
another row or column fails to open. Rotating KEKs re-wraps DEKs only; data is never re-encrypted.
"""

from phr.crypto.errors import DecryptionError, KeyConfigurationError

__all__ = ["DecryptionError", "KeyConfigurationError"]
