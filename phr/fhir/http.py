"""An HTTP conversation with one FHIR server: timeouts always set, retries by policy, every request counted.

Every request, the token request and redirects included, goes through the outbound policy (``phr.outbound``):
https to public addresses only, pinned to the address checked, redirects within one origin, size limits.
Logs carry the host, the status and the attempt, never a URL's path or query (they hold patient ids).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from phr import outbound
from phr.fhir.errors import DestinationRefused, FhirResponseError, FhirUnavailable
from phr.fhir.retry import RETRYABLE_STATUSES, RetryPolicy

logger = logging.getLogger(__name__)
# httpx logs every request URL at INFO; FHIR URLs carry patient ids and patient numbers.
logging.getLogger("httpx").setLevel(logging.WARNING)

FHIR_JSON = "application/fhir+json"
USER_AGENT = "Mamori-PHR/1.0"


def same_base(base_url: str, url: str) -> bool:
    """Whether ``url`` lies under ``base_url`` (scheme, host, port and path prefix): where a token may go."""
    base, other = urlsplit(base_url.rstrip("/") + "/"), urlsplit(url)
    return (base.scheme, base.netloc.lower()) == (other.scheme, other.netloc.lower()) and (
        other.path.rstrip("/") + "/"
    ).startswith(base.path)


class FhirHttp:
    """Requests to one server. ``bearer`` gives the current access token; ``on_unauthorised`` renews it once."""

    def __init__(
        self,
        *,
        base_url: str,
        policy: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
        bearer: Callable[[], str | None] | None = None,
        on_unauthorised: Callable[[], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self.requests_made = 0
        self._bearer = bearer
        self._on_unauthorised = on_unauthorised
        self._client = outbound.client(timeout=timeout, headers={"User-Agent": USER_AGENT})

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> FhirHttp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Callable[[], Mapping[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        authorise: bool = True,
    ) -> httpx.Response:
        """Send with retries. ``data`` is called afresh for each try (a client assertion is single-use)."""
        url = self.url(url)
        host = urlsplit(url).netloc
        renewed = False
        attempt = 0
        while True:
            attempt += 1
            request_headers = dict(headers or {})
            if authorise and self._bearer is not None and same_base(self.base_url, url):
                token = self._bearer()
                if token:
                    request_headers["Authorization"] = f"Bearer {token}"
            self.requests_made += 1
            try:
                response = self._client.request(
                    method, url, params=params, data=data() if data else None, headers=request_headers
                )
            except outbound.OutboundRefused as exc:
                logger.warning("outbound request refused", extra={"host": host, "code": exc.code})
                raise DestinationRefused(f"refused by the outbound policy: {exc}", code=exc.code) from exc
            except httpx.TooManyRedirects as exc:
                raise DestinationRefused(f"{host} redirected too many times", code="redirect") from exc
            except httpx.TransportError as exc:
                if attempt >= self.policy.attempts:
                    raise FhirUnavailable(f"{host} did not answer ({type(exc).__name__})") from exc
                logger.warning("fhir transport error, retrying", extra={"host": host, "attempt": attempt})
                self.policy.sleep(self.policy.delay(attempt))
                continue
            if response.status_code == 401 and authorise and self._on_unauthorised is not None and not renewed:
                renewed = True
                self._on_unauthorised()
                attempt -= 1
                continue
            if response.status_code in RETRYABLE_STATUSES:
                if attempt >= self.policy.attempts:
                    raise FhirUnavailable(f"{host} answered {response.status_code} after {attempt} tries")
                wait = self.policy.delay(attempt, response.headers.get("Retry-After"))
                logger.warning(
                    "fhir server busy, retrying",
                    extra={"host": host, "status": response.status_code, "attempt": attempt, "wait": wait},
                )
                self.policy.sleep(wait)
                continue
            return response

    def get_json(self, url: str, params: Mapping[str, str] | None = None, *, authorise: bool = True) -> dict[str, Any]:
        """GET a FHIR JSON body; any error status raises FhirResponseError."""
        response = self.request("GET", url, params=params, headers={"Accept": FHIR_JSON}, authorise=authorise)
        return json_body(response)


def json_body(response: httpx.Response) -> dict[str, Any]:
    host = urlsplit(str(response.request.url)).netloc
    if response.status_code >= 400:
        raise FhirResponseError(f"{host} answered {response.status_code}", status=response.status_code)
    try:
        body = response.json()
    except ValueError as exc:
        raise FhirResponseError(f"{host} answered with a body that is not JSON", status=response.status_code) from exc
    if not isinstance(body, dict):
        raise FhirResponseError(f"{host} answered with JSON that is not an object", status=response.status_code)
    return body
