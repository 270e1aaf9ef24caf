"""Fetching a client's JWKS URL under the outbound policy (``phr.outbound``: no server-side request forgery).

A JWKS URL is typed in by an organisation administrator; fetched blindly it would let anyone with that role
make the server read ``http://169.254.169.254/`` (cloud metadata) or an internal service. The policy's rules
apply as to every server-side fetch: https, public addresses only (pinned to the address checked), no
redirect to another origin, time and size limits; only origins in ``MAMORI_OUTBOUND_ALLOW`` are exempt.
"""

from __future__ import annotations

from phr import outbound

MAX_BYTES = 256 * 1024


class UnsafeJwksUrl(outbound.OutboundRefused):
    """The policy's refusal, naming the JWKS URL; ``code`` as the policy's (scheme, private, too-large, ...)."""

    @classmethod
    def of(cls, refusal: outbound.OutboundRefused) -> UnsafeJwksUrl:
        return cls(refusal.code, f"The JWKS URL is refused: {refusal}")


def check_url_form(url: str) -> None:
    """What can be checked without the network (for the staff form): scheme, host, credentials, literal IPs."""
    try:
        outbound.check_url(url)
    except outbound.OutboundRefused as exc:
        raise UnsafeJwksUrl.of(exc) from exc


def get_jwks_document(url: str) -> bytes:
    """The body at ``url`` (at most ``MAX_BYTES``), fetched under the outbound policy.

    Raises UnsafeJwksUrl for a URL or an answer the policy refuses, httpx.HTTPError for a transport or HTTP error.
    """
    try:
        return outbound.get_bytes(url, max_bytes=MAX_BYTES, headers={"Accept": "application/json"})
    except outbound.OutboundRefused as exc:
        raise UnsafeJwksUrl.of(exc) from exc
