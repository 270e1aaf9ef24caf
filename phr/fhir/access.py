"""Fetch-and-authorise for connections and endpoints: the only way a request's id becomes one of them.

A person sees and syncs their own connections; a proxy views them with any scope and changes them only with
the "manage" scope. Anything else answers 404.
"""

from __future__ import annotations

from django.http import Http404

from phr.access import person_for_user
from phr.ids import uuid_or_404
from phr.models import Connection, FhirEndpoint, User
from phr.models.parties import ProxyScope


def connection_for_user(user: User, connection_id: object, *, scope: str = ProxyScope.VIEW) -> Connection:
    connection = (
        Connection.objects.select_related("endpoint__organisation", "person")
        .filter(pk=uuid_or_404(connection_id))
        .first()
    )
    if connection is None:
        raise Http404
    person_for_user(user, connection.person_id, scope=scope)
    return connection


def endpoint_by_id(endpoint_id: object) -> FhirEndpoint:
    """Endpoints are public configuration (which hospitals can be connected), not personal data."""
    endpoint = FhirEndpoint.objects.select_related("organisation").filter(pk=uuid_or_404(endpoint_id)).first()
    if endpoint is None:
        raise Http404
    return endpoint
