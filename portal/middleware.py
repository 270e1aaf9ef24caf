"""Session lifetime and the staff MFA gate."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from phr.selectors import is_staff_user
from phr.signals import SESSION_STARTED_KEY
from portal.mfa import session_passed_mfa

STAFF_PREFIXES = ("/staff/", "/admin/")


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
    """No staff or admin page is reachable by a staff user whose session has not passed MFA."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.path.startswith(STAFF_PREFIXES)
            and request.user.is_authenticated
            and is_staff_user(request.user)
            and not session_passed_mfa(request)
        ):
            return HttpResponseRedirect(f"{reverse('portal:staff_mfa_required')}?{urlencode({'next': request.path})}")
        return self.get_response(request)
