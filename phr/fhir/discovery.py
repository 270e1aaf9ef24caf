"""What an endpoint can do: its SMART configuration and CapabilityStatement, fetched and cached on the row.

The authorize and token URLs a server advertises are held to the outbound policy (``phr.outbound``) when read
and again when used: a server that names a private address gets nothing sent there, least of all a secret.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from phr import outbound
from phr.fhir.errors import DestinationRefused, FhirResponseError
from phr.fhir.http import FhirHttp, json_body
from phr.fhir.scopes import PATIENT_RESOURCE_TYPES
from phr.models import FhirEndpoint
from phr.models.fhir import ScopeStyle

CAPABILITIES_MAX_AGE = timedelta(hours=24)


def capabilities_are_fresh(endpoint: FhirEndpoint, *, max_age: timedelta = CAPABILITIES_MAX_AGE) -> bool:
    fetched = endpoint.capabilities_fetched_at
    return fetched is not None and timezone.now() - fetched < max_age and bool(endpoint.capability)


def refresh_capabilities(endpoint: FhirEndpoint, *, http: FhirHttp | None = None, force: bool = False) -> FhirEndpoint:
    """Read /.well-known/smart-configuration and /metadata unless the cached copies are fresh."""
    if not force and capabilities_are_fresh(endpoint):
        return endpoint
    own = http is None
    client = http or FhirHttp(base_url=endpoint.base_url)
    try:
        # Discovery is public: it is what tells the client how to get a token in the first place.
        capability = client.get_json("metadata", authorise=False)
        smart = client.request(
            "GET", ".well-known/smart-configuration", headers={"Accept": "application/json"}, authorise=False
        )
        smart_configuration: dict[str, Any] = {}
        if smart.status_code < 400:
            smart_configuration = json_body(smart)
        elif smart.status_code != 404:
            raise FhirResponseError("the SMART configuration could not be read", status=smart.status_code)
    finally:
        if own:
            client.close()
    if capability.get("resourceType") != "CapabilityStatement":
        raise FhirResponseError("/metadata is not a CapabilityStatement", status=200)
    for name in ADVERTISED_URLS:
        url = smart_configuration.get(name)
        if url is not None:
            _check_advertised(name, url, resolve=True)
    endpoint.capability = capability
    endpoint.smart_configuration = smart_configuration
    endpoint.supports_everything = _supports_everything(capability)
    endpoint.capabilities_fetched_at = timezone.now()
    endpoint.save(update_fields=["capability", "smart_configuration", "supports_everything", "capabilities_fetched_at"])
    return endpoint


def _server_rest(capability: dict[str, Any]) -> dict[str, Any]:
    for rest in capability.get("rest") or []:
        if isinstance(rest, dict) and rest.get("mode") == "server":
            return rest
    return {}


def _resources(capability: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in _server_rest(capability).get("resource") or [] if isinstance(r, dict)]


def _supports_everything(capability: dict[str, Any]) -> bool:
    for resource in _resources(capability):
        if resource.get("type") == "Patient":
            names = {str(op.get("name", "")).lstrip("$") for op in resource.get("operation") or []}
            if "everything" in names:
                return True
    names = {str(op.get("name", "")).lstrip("$") for op in _server_rest(capability).get("operation") or []}
    return "everything" in names


def searchable_types(endpoint: FhirEndpoint) -> list[str]:
    """The record types the endpoint says it can search, in Mamori's order (all of them when it says nothing)."""
    resources = _resources(endpoint.capability or {})
    if not resources:
        return list(PATIENT_RESOURCE_TYPES)
    searchable = {
        r.get("type")
        for r in resources
        if any(i.get("code") == "search-type" for i in r.get("interaction") or [] if isinstance(i, dict))
    }
    return [t for t in PATIENT_RESOURCE_TYPES if t in searchable]


ADVERTISED_URLS = ("token_endpoint", "authorization_endpoint")


def _check_advertised(name: str, url: object, *, resolve: bool) -> str:
    """``url`` if the outbound policy allows it; DestinationRefused (naming the host, never the path) if not."""
    label = name.replace("_", " ")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise FhirResponseError(f"the endpoint publishes no {label}", status=404)
    try:
        outbound.check_destination(url) if resolve else outbound.check_url(url)
    except outbound.OutboundRefused as exc:
        raise DestinationRefused(
            f"the endpoint advertises a {label} Mamori may not call: {exc}", code=exc.code
        ) from exc
    return url


def token_endpoint(endpoint: FhirEndpoint) -> str:
    return _check_advertised(
        "token_endpoint", (endpoint.smart_configuration or {}).get("token_endpoint"), resolve=False
    )


def authorization_endpoint(endpoint: FhirEndpoint) -> str:
    """Where the person's browser is sent to authorise; held to the policy as if Mamori fetched it."""
    url = (endpoint.smart_configuration or {}).get("authorization_endpoint")
    return _check_advertised("authorization_endpoint", url, resolve=True)


def scope_style(endpoint: FhirEndpoint) -> str:
    """v1 where the server announces only SMART v1 permissions; otherwise the endpoint's configured style."""
    capabilities = set((endpoint.smart_configuration or {}).get("capabilities") or [])
    if "permission-v1" in capabilities and "permission-v2" not in capabilities:
        return ScopeStyle.V1
    return endpoint.scope_style
