"""Request types for views behind login_required, where the user is known to be signed in."""

from django.http import HttpRequest

from phr.models import User


class AuthenticatedRequest(HttpRequest):
    user: User
