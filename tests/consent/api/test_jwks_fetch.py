"""JWKS URLs are fetched through the outbound policy (phr/outbound.py): only from public addresses (no
server-side request forgery), pinned to the address checked; the staff form refuses what can be seen to be
unsafe before anything is stored."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from consent.api.jwks_fetch import UnsafeJwksUrl, check_url_form, get_jwks_document
from phr import outbound
from tests.consent.api.jwks_server import JwksServer, jwks_server

__all__ = ["jwks_server"]


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/jwks.json",
        "https://10.0.0.8/jwks.json",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/jwks.json",
        "https://[fd00::1]/jwks.json",
        "https://0.0.0.0/jwks.json",
        "https://localhost/jwks.json",
    ],
)
def test_a_literal_private_or_reserved_address_is_refused(url: str) -> None:
    with pytest.raises(UnsafeJwksUrl) as refused:
        check_url_form(url)
    assert refused.value.code == "private"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://ehr.example/jwks.json", "scheme"),
        ("ftp://ehr.example/jwks.json", "scheme"),
        ("https://user:pw@ehr.example/jwks.json", "credentials"),
        ("https:///jwks.json", "host"),
    ],
)
def test_plain_http_credentials_and_hostless_urls_are_refused(url: str, code: str) -> None:
    with pytest.raises(UnsafeJwksUrl) as refused:
        check_url_form(url)
    assert refused.value.code == code


def test_a_name_that_resolves_to_loopback_is_refused_at_fetch_time() -> None:
    with pytest.raises(outbound.OutboundRefused) as refused:
        outbound.resolve("https://localhost:443/")
    assert refused.value.code == "private"


def test_a_host_name_of_a_private_address_is_refused_before_any_connection() -> None:
    host = socket.gethostname()  # this machine's name: a private (or loopback) address here
    if any(ipaddress.ip_address(info[4][0]).is_global for info in socket.getaddrinfo(host, 443)):
        pytest.skip("this machine's name resolves to a public address")
    with pytest.raises(UnsafeJwksUrl) as refused:
        get_jwks_document(f"https://{host}/jwks.json")
    assert refused.value.code == "private"


def test_a_local_server_whose_origin_is_allowed_is_fetched(jwks_server: JwksServer) -> None:
    jwks_server.document = {"keys": [{"kty": "EC"}]}
    assert get_jwks_document(jwks_server.url) == b'{"keys": [{"kty": "EC"}]}'
    assert jwks_server.requests == ["/jwks.json"]


def test_the_same_local_server_is_refused_once_its_origin_is_not_allowed(jwks_server: JwksServer, settings) -> None:
    settings.MAMORI_OUTBOUND_ALLOW = []
    with pytest.raises(UnsafeJwksUrl) as refused:
        get_jwks_document(jwks_server.url)
    assert refused.value.code == "scheme"
    assert jwks_server.requests == []


def test_a_document_larger_than_the_limit_is_refused(jwks_server: JwksServer) -> None:
    jwks_server.document = {"keys": [], "padding": "x" * 300_000}
    with pytest.raises(UnsafeJwksUrl) as refused:
        get_jwks_document(jwks_server.url)
    assert refused.value.code == "too-large"
