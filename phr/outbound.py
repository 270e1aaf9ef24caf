"""The one policy for every request the server makes on its own (server-side request forgery, SSRF).

FHIR base URLs, the authorize and token URLs a FHIR server advertises, the references a sync follows and API
clients' JWKS URLs are typed in by staff or named by a remote server. Fetched blindly, any of them would let
that person or server make Mamori read ``http://169.254.169.254/`` (cloud metadata), ``http://127.0.0.1:6379``
or an internal service, and hand it whatever Mamori sends along (a client secret). So every such request:

- uses https, on a host with no user name or password in the URL;
- goes to a host whose every resolved address is public (globally routable): no loopback, private, link-local,
  shared (CGNAT), multicast, reserved or unspecified address, also not hidden in an IPv6 form (IPv4-mapped,
  IPv4-compatible, 6to4, Teredo, NAT64);
- is sent to the very address that was checked (the host is resolved once per request; the TLS name and the
  Host header stay the host's, so the certificate is verified against the name): a DNS answer that changes
  between the check and the connection (DNS rebinding) cannot move it;
- follows a redirect only within the same origin (scheme, host and port);
- has connect and read timeouts, and a response size limit counted after decompression.

``settings.MAMORI_OUTBOUND_ALLOW`` lists origins (``http://127.0.0.1:8091``) allowed despite http or a private
address: the demo hospitals and the tests' local servers. Development mode (DEBUG) allows nothing by itself.
"""

from __future__ import annotations

import ipaddress
import socket
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_REDIRECTS = 5
# Encodings the transport can decompress itself while counting; anything else is refused, never decoded blind.
ACCEPT_ENCODING = "gzip, deflate"
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


class OutboundRefused(ValueError):
    """A request the policy does not allow, or an answer past its limits. ``code`` names why (for a translated
    message); the English message names no path or query and is safe to show to staff and to log."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Destination:
    """Where a request may go: the URL's origin, and the one checked address to connect to."""

    scheme: str
    host: str
    port: int
    address: str

    @property
    def origin(self) -> str:
        return _origin(self.scheme, self.host, self.port)


def _origin(scheme: str, host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


def origin_of(url: str) -> str:
    """``scheme://host:port`` of ``url``, lower-cased, with the default port written out."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise OutboundRefused("port", "The URL has an invalid port.") from exc
    return _origin(scheme, (parts.hostname or "").lower(), port)


def allowed_origins() -> frozenset[str]:
    """The origins of ``MAMORI_OUTBOUND_ALLOW``, written as :func:`origin_of` writes them."""
    configured = settings.MAMORI_OUTBOUND_ALLOW
    entries = configured.split(",") if isinstance(configured, str) else list(configured)
    return frozenset(origin_of(entry.strip()) for entry in entries if entry.strip())


def is_public_address(address: IPAddress) -> bool:
    """Whether ``address`` is globally routable, also when an IPv4 address is wrapped in an IPv6 one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded: ipaddress.IPv4Address | None = address.ipv4_mapped or address.sixtofour
        if address.teredo is not None:
            embedded = address.teredo[1]
        elif any(address in network for network in _NAT64) or address in _IPV4_COMPATIBLE:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not is_public_address(embedded):
            return False
    return address.is_global and not (
        address.is_multicast
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
    )


def check_url(url: str) -> tuple[str, str, int, bool]:
    """What can be checked without the network; returns (scheme, host, port, allow-listed).

    Raises OutboundRefused: not https (unless allow-listed), no host, credentials in the URL, a bad port, or a
    literal address or local name that is not public (unless allow-listed).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise OutboundRefused("scheme", "The URL must use https.")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise OutboundRefused("host", "The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise OutboundRefused("credentials", "The URL must not carry a user name or password.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise OutboundRefused("port", "The URL has an invalid port.") from exc
    allowed = _origin(scheme, host, port) in allowed_origins()
    if allowed:
        return scheme, host, port, True
    if scheme != "https":
        raise OutboundRefused("scheme", "The URL must use https.")
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if (literal is not None and not is_public_address(literal)) or host in _LOCAL_NAMES or host.endswith(".localhost"):
        raise OutboundRefused("private", f"{host} is a private or reserved address.")
    return scheme, host, port, False


def resolve(url: str) -> Destination:
    """Check ``url`` and resolve its host once: every address must be public unless the origin is allow-listed.

    Raises OutboundRefused ("unresolved" when the name has no address).
    """
    scheme, host, port, allowed = check_url(url)
    try:
        # AI_ADDRCONFIG: no IPv6 answer on a machine without IPv6, where pinning to one would fail to connect.
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_ADDRCONFIG)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundRefused("unresolved", f"{host} does not resolve.") from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise OutboundRefused("unresolved", f"{host} does not resolve.")
    if not allowed and not all(is_public_address(address) for address in addresses):
        raise OutboundRefused("private", f"{host} resolves to a private or reserved address.")
    return Destination(scheme=scheme, host=host, port=port, address=str(addresses[0]))


def check_destination(url: str) -> None:
    """For a URL about to be stored (a form, a service): refused when the policy would refuse to fetch it.

    A name that does not resolve yet is accepted (the hospital's server may not be up); it is checked again
    at every request.
    """
    try:
        resolve(url)
    except OutboundRefused as exc:
        if exc.code != "unresolved":
            raise


def max_response_bytes() -> int:
    return int(settings.MAMORI_OUTBOUND_MAX_BYTES)


def default_timeout() -> httpx.Timeout:
    return httpx.Timeout(
        float(settings.MAMORI_OUTBOUND_READ_TIMEOUT), connect=float(settings.MAMORI_OUTBOUND_CONNECT_TIMEOUT)
    )


class _LimitedStream(httpx.SyncByteStream):
    """The body of an answer, decompressed here (gzip, deflate) so the limit counts what the caller gets."""

    def __init__(self, inner: httpx.SyncByteStream, *, host: str, max_bytes: int, encoding: str) -> None:
        self._inner = inner
        self._host = host
        self._max = max_bytes
        self._decoder = zlib.decompressobj(zlib.MAX_WBITS | 32) if encoding else None

    def _too_large(self) -> OutboundRefused:
        return OutboundRefused("too-large", f"{self._host} answered with more than {self._max} bytes.")

    def __iter__(self) -> Iterator[bytes]:
        seen = 0
        for chunk in self._inner:
            for piece in self._decode(chunk, seen):
                seen += len(piece)
                if seen > self._max:
                    raise self._too_large()
                yield piece
        if self._decoder is not None:
            rest = self._decoder.flush()
            if seen + len(rest) > self._max:
                raise self._too_large()
            if rest:
                yield rest

    def _decode(self, chunk: bytes, seen: int) -> Iterator[bytes]:
        if self._decoder is None:
            yield chunk
            return
        data = chunk
        # max_length bounds what one compressed chunk may expand to, so a small bomb never fills memory.
        while data:
            try:
                piece = self._decoder.decompress(data, self._max - seen + 1)
            except zlib.error as exc:
                raise OutboundRefused("encoding", f"{self._host} sent a body that does not decompress.") from exc
            seen += len(piece)
            yield piece
            if seen > self._max:
                return
            data = self._decoder.unconsumed_tail

    def close(self) -> None:
        self._inner.close()


class PolicyTransport(httpx.BaseTransport):
    """Checks and pins each request (redirects included) before it leaves; limits each answer's size."""

    def __init__(self, *, max_bytes: int | None = None) -> None:
        self._inner = httpx.HTTPTransport(retries=0)
        self._max_bytes = max_bytes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        destination = resolve(str(request.url))
        extensions: dict[str, Any] = dict(request.extensions)
        if destination.scheme == "https":
            extensions["sni_hostname"] = destination.host
        # The Host header stays the one built from the original URL; only the connection goes to the address.
        pinned = httpx.Request(
            request.method,
            request.url.copy_with(host=destination.address),
            headers=request.headers,
            stream=request.stream,
            extensions=extensions,
        )
        response = self._inner.handle_request(pinned)
        return self._limited(response, destination.host)

    def _limited(self, response: httpx.Response, host: str) -> httpx.Response:
        limit = self._max_bytes if self._max_bytes is not None else max_response_bytes()
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        declared = response.headers.get("Content-Length", "")
        refusal = None
        if encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
            refusal = OutboundRefused("encoding", f"{host} answered in an encoding Mamori does not accept.")
        elif not encoding and declared.isdigit() and int(declared) > limit:
            refusal = OutboundRefused("too-large", f"{host} answered with more than {limit} bytes.")
        if refusal is not None:
            response.close()
            raise refusal
        headers = response.headers.copy()
        if encoding not in ("", "identity"):
            # Decoded here; httpx must not decode it a second time.
            del headers["Content-Encoding"]
            headers.pop("Content-Length", None)
        stream = response.stream
        assert isinstance(stream, httpx.SyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=headers,
            stream=_LimitedStream(
                stream, host=host, max_bytes=limit, encoding="" if encoding in ("", "identity") else encoding
            ),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._inner.close()


def _refuse_cross_origin_redirect(response: httpx.Response) -> None:
    if not response.has_redirect_location:
        return
    target = response.request.url.join(response.headers["Location"])
    if origin_of(str(target)) != origin_of(str(response.request.url)):
        response.close()
        raise OutboundRefused("redirect", f"{response.request.url.host} redirected to another origin.")


def client(
    *,
    timeout: httpx.Timeout | None = None,
    max_bytes: int | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Client:
    """An httpx client bound by the policy; the only way server-side code should make a request."""
    return httpx.Client(
        transport=PolicyTransport(max_bytes=max_bytes),
        timeout=timeout or default_timeout(),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        headers={"Accept-Encoding": ACCEPT_ENCODING, **(headers or {})},
        event_hooks={"response": [_refuse_cross_origin_redirect]},
        trust_env=False,
    )


def get_bytes(url: str, *, max_bytes: int, headers: dict[str, str] | None = None) -> bytes:
    """The body at ``url`` (a 2xx answer), fetched under the policy.

    Raises OutboundRefused, or httpx.HTTPError for a transport failure or an error status.
    """
    with client(max_bytes=max_bytes, headers=headers) as http:
        response = http.get(url)
        response.raise_for_status()
        return response.content
