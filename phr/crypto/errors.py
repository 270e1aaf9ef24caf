class DecryptionError(Exception):
    """A ciphertext could not be opened: wrong key, wrong row or column, or tampered bytes."""


class KeyConfigurationError(Exception):
    """The configured encryption keys cannot be parsed or a needed key id is not configured."""
