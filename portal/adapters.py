"""allauth adapter: staff land in the staff area; everyone else on their dashboard."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse

from phr.models import User
from phr.roles import is_staff


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request: HttpRequest) -> str:
        user = request.user
        if isinstance(user, User) and is_staff(user) and not hasattr(user, "person"):
            return reverse("portal:staff_home")
        return super().get_login_redirect_url(request)
