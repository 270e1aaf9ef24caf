"""allauth MFA forms with labels in our catalogue (allauth leaves the security-key name unlabelled)."""

from __future__ import annotations

from typing import Any

from allauth.mfa.webauthn.forms import AddWebAuthnForm as BaseAddWebAuthnForm
from django.utils.translation import gettext_lazy as _


class AddWebAuthnForm(BaseAddWebAuthnForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].label = _("Name of this security key or passkey")
        self.fields["name"].help_text = _("For example, the device it lives on. You can leave it empty.")
