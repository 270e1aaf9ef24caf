"""allauth MFA adapter: TOTP secrets and recovery seeds are encrypted at rest with a system data key."""

from __future__ import annotations

import base64

from allauth.mfa.adapter import DefaultMFAAdapter

from phr.crypto.datakeys import decrypt, encrypt_with, system_data_key

_CONTEXT = "allauth.mfa.authenticator.data"
_PREFIX = "mamori:"


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        token = encrypt_with(system_data_key("mfa"), text.encode("utf-8"), context=_CONTEXT)
        return _PREFIX + base64.b64encode(token).decode("ascii")

    def decrypt(self, encrypted_text: str) -> str:
        if not encrypted_text.startswith(_PREFIX):
            raise ValueError("MFA secret is not encrypted; refusing to use it")
        return decrypt(base64.b64decode(encrypted_text[len(_PREFIX) :]), context=_CONTEXT).decode("utf-8")
