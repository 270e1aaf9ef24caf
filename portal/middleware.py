"""Session lifetime, the staff second-factor gate, and no caching of what pages show."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from phr.roles import is_staff
from phr.signals import SESSION_STARTED_KEY
from portal.mfa import is_mfa_flow, reads_the_session, session_passed_mfa


class SessionLifetimeMiddleware:
    """Ends a signed-in session once it is older than MAMORI_SESSION_ABSOLUTE_SECONDS, however active.

    The idle timeout is Django's own: SESSION_COOKIE_AGE, renewed on every request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            started = request.session.get(SESSION_STARTED_KEY)
            if started is None:
                request.session[SESSION_STARTED_KEY] = time.time()
            elif time.time() - float(started) > settings.MAMORI_SESSION_ABSOLUTE_SECONDS:
                logout(request)
                messages.info(request, _("Your session ended for your safety. Please sign in again."))
                return HttpResponseRedirect(reverse("account_login"))
        return self.get_response(request)


class StaffMFAMiddleware:
    """A staff user whose session has not passed a second factor reaches no page but the flow that gives one.

    Whatever the URL: staff pages, the admin, and the citizen pages a staff member could otherwise open or
    post to (their own record, a person they act for). Checked once the URL is resolved, so the exemptions
    are views (see ``portal.mfa``), not path prefixes that drift from the URLconf. Static files never reach
    this (WhiteNoise answers them first); an unknown path gets the 404 it would get anyway.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if (
            not request.user.is_authenticated
            or is_mfa_flow(request)
            or not reads_the_session(view_func)
            or not is_staff(request.user)
            or session_passed_mfa(request)
        ):
            return None
        return HttpResponseRedirect(f"{reverse('portal:staff_mfa_required')}?{urlencode({'next': request.path})}")


class NoStoreMiddleware:
    """No response is kept by a browser or a shared cache unless its view says otherwise.

    Pages show health data (要配慮個人情報: special-care personal information) to the signed-in person, to
    whoever holds a share link, and in exports; a stored copy outlives the sign-out and the link's expiry.
    A view that serves only public data and wants caching sets its own ``Cache-Control``, which is kept.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response
