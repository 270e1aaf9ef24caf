"""JWKS URLs are fetched only from public addresses (no server-side request forgery), pinned to the address
checked, and the staff form refuses what can be seen to be unsafe before anything is stored."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from consent.api.jwks_fetch import UnsafeJwksUrl, check_url_form, get_jwks_document, public_address
from tests.consent.api.jwks_server import JwksServer, jwks_server

__all__ = ["jwks_server"]


@pytest.fixture(autouse=True)
def _production(settings) -> None:
    settings.MAMORI_JWKS_ALLOW_PRIVATE = False


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
    with pytest.raises(UnsafeJwksUrl) as refused:
        public_address("localhost", 443)
    assert refused.value.code == "private"


def test_a_host_name_of_a_private_address_is_refused_before_any_connection() -> None:
    host = socket.gethostname()  # this machine's name: a private (or loopback) address here
    if any(ipaddress.ip_address(info[4][0]).is_global for info in socket.getaddrinfo(host, 443)):
        pytest.skip("this machine's name resolves to a public address")
    with pytest.raises(UnsafeJwksUrl) as refused:
        get_jwks_document(f"https://{host}/jwks.json")
    assert refused.value.code == "private"


def test_with_private_addresses_allowed_the_document_is_fetched(jwks_server: JwksServer, settings) -> None:
    settings.MAMORI_JWKS_ALLOW_PRIVATE = True  # development
    jwks_server.document = {"keys": [{"kty": "EC"}]}
    assert get_jwks_document(jwks_server.url) == b'{"keys": [{"kty": "EC"}]}'
    assert jwks_server.requests == ["/jwks.json"]


def test_a_document_larger_than_the_limit_is_refused(jwks_server: JwksServer, settings) -> None:
    settings.MAMORI_JWKS_ALLOW_PRIVATE = True
    jwks_server.document = {"keys": [], "padding": "x" * 300_000}
    with pytest.raises(UnsafeJwksUrl) as refused:
        get_jwks_document(jwks_server.url)
    assert refused.value.code == "too-large"
