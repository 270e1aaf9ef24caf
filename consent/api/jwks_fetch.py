"""Fetching a client's JWKS URL without letting it reach inside our network (server-side request forgery).

A JWKS URL is typed in by an organisation administrator; fetching it blindly would let anyone with that role
make the server read ``http://169.254.169.254/`` (cloud metadata), ``http://127.0.0.1:6379`` or an internal
service. So the URL must be https on the default port or an explicit one, its host is resolved once, every
address it resolves to must be a public (globally routable) one, and the request goes to that checked address
(the TLS name and Host header stay the host's, so the certificate is still verified against the name): a DNS
answer that changes between the check and the connection cannot redirect it. Redirects are not followed.

``settings.MAMORI_JWKS_ALLOW_PRIVATE`` (development and tests only) allows http and private addresses.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings

TIMEOUT_SECONDS = 5.0
MAX_BYTES = 256 * 1024


class UnsafeJwksUrl(ValueError):
    """The URL may not be fetched. ``code`` names why (for a translated message); the English message is
    safe to return to the API client and to log."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_url_form(url: str) -> None:
    """What can be checked without the network: scheme, host present, no credentials, no literal private IP."""
    parts = urlsplit(url)
    allow_private = bool(getattr(settings, "MAMORI_JWKS_ALLOW_PRIVATE", False))
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise UnsafeJwksUrl("scheme", "The JWKS URL must use https.")
    if not parts.hostname:
        raise UnsafeJwksUrl("host", "The JWKS URL has no host.")
    if parts.username or parts.password:
        raise UnsafeJwksUrl("credentials", "The JWKS URL must not carry a user name or password.")
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        literal = None
    if literal is not None and not allow_private and not literal.is_global:
        raise UnsafeJwksUrl("private", "The JWKS URL points at a private or reserved address.")
    if parts.hostname.lower() in {"localhost", "localhost.localdomain"} and not allow_private:
        raise UnsafeJwksUrl("private", "The JWKS URL points at a private or reserved address.")


def public_address(host: str, port: int) -> str:
    """One address of ``host`` after checking that every address it resolves to is public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeJwksUrl("unresolved", "The JWKS URL's host does not resolve.") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise UnsafeJwksUrl("unresolved", "The JWKS URL's host does not resolve.")
    if not getattr(settings, "MAMORI_JWKS_ALLOW_PRIVATE", False) and not all(a.is_global for a in addresses):
        raise UnsafeJwksUrl("private", "The JWKS URL points at a private or reserved address.")
    return str(addresses[0])


def get_jwks_document(url: str) -> bytes:
    """The body at ``url`` (at most ``MAX_BYTES``), fetched from a checked public address.

    Raises UnsafeJwksUrl for a URL that may not be fetched, httpx.HTTPError for a transport or HTTP error.
    """
    check_url_form(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = public_address(host, port)
    netloc = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    with (
        httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client,
        client.stream("GET", pinned, headers={"Host": host_header}, extensions=extensions) as response,
    ):
        response.raise_for_status()
        body = bytearray()
        for chunk in response.iter_bytes():
            body.extend(chunk)
            if len(body) > MAX_BYTES:
                raise UnsafeJwksUrl("too-large", "The client's JWKS is too large.")
    return bytes(body)
