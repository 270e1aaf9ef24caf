"""What every page needs to draw its navigation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from phr.roles import is_staff


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_is_staff": False}
    return {"nav_is_staff": is_staff(user)}
