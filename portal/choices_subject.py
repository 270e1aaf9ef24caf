"""Who a My-choices page is about, and in what capacity the signed-in user sees it."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from phr.models import Person, Proxy
from phr.models.parties import ProxyScope


@dataclass(frozen=True)
class Subject:
    """The person whose choices are shown, and in what capacity the signed-in user sees them."""

    person: Person
    is_own: bool
    proxy: Proxy | None

    @property
    def can_change(self) -> bool:
        return self.is_own or (self.proxy is not None and self.proxy.allows(ProxyScope.MANAGE_CONSENT))

    def url(self, name: str, *args: object) -> str:
        if self.is_own:
            return reverse(f"portal:{name}", args=args)
        return reverse(f"portal:person_{name}", args=[self.person.pk, *args])
