"""Whether a session has proven a second factor: required for every staff page."""

from __future__ import annotations

from datetime import UTC, datetime

from allauth.account.internal.flows.login import get_authentication_records
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.http import HttpRequest

from phr.signals import SESSION_STARTED_KEY


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
