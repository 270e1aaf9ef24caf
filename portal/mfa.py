"""Staff need a second factor for every page: whether a session has passed one, and what a staff user who
has not may still reach (only what the enrolment and sign-in flow itself needs)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from allauth.account.internal.flows.login import get_authentication_records
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.http import HttpRequest
from rest_framework.authentication import SessionAuthentication
from rest_framework.views import APIView

from phr.signals import SESSION_STARTED_KEY

# Views a staff user without a second factor may open, by URL name: the flow that gives them one.
MFA_FLOW_VIEWS = frozenset(
    {
        "portal:staff_mfa_required",
        "account_logout",
        "account_reauthenticate",  # allauth asks for the password again before a factor is added
        # allauth adds no factor to an account whose address is unverified, so verifying it is part of the flow.
        "account_email",
        "account_email_verification_sent",
        "account_confirm_email",
        "set_language",
        "javascript-catalog",
        "healthz",
        "readyz",
    }
)
ALLAUTH_MFA_VIEW_PREFIX = "mfa_"  # allauth's enrolment, authenticate and reauthenticate pages


def session_passed_mfa(request: HttpRequest) -> bool:
    """True when this session signed in with a second factor, or enrolled one after it began."""
    user = request.user
    if not user.is_authenticated or not is_mfa_enabled(user):
        return False
    if any(record.get("method") == "mfa" for record in get_authentication_records(request, user)):
        return True
    started = request.session.get(SESSION_STARTED_KEY)
    if started is None:
        return False
    since = datetime.fromtimestamp(float(started), tz=UTC)
    return Authenticator.objects.filter(user=user, created_at__gte=since).exists()


def reads_the_session(view_func: Callable[..., Any]) -> bool:
    """Whether a view may act on the signed-in session at all.

    The hospital API (``/api/v1/``, ``/fhir/``, ``/.well-known/``) authenticates each request by its bearer
    token or not at all, never by the session cookie, so a staff member's session opens nothing there and the
    second-factor gate has nothing to guard. A DRF view that does accept the session is gated like a page.
    """
    view_class = getattr(view_func, "cls", None)
    if not (isinstance(view_class, type) and issubclass(view_class, APIView)):
        return True
    initkwargs = getattr(view_func, "initkwargs", {})
    authenticators = initkwargs.get("authentication_classes", view_class.authentication_classes)
    return any(issubclass(authenticator, SessionAuthentication) for authenticator in authenticators)


def is_mfa_flow(request: HttpRequest) -> bool:
    """Whether the request is for a page a staff user needs to enrol or prove a second factor, or to leave."""
    match = request.resolver_match
    if match is None:
        return False
    return match.view_name in MFA_FLOW_VIEWS or match.view_name.startswith(ALLAUTH_MFA_VIEW_PREFIX)
