"""The outbound policy (phr/outbound.py) that every server-side fetch goes through: https to public addresses
only, whatever form an address is written in; pinned to the address checked; no redirect to another origin;
answers cut at the size limit. Only origins an operator lists are exempt, and development mode is not a list."""

from __future__ import annotations

import pytest

from phr import outbound
from phr.outbound import OutboundRefused
from tests.phr.fhir.recording_server import RecordingServer, recorder, second_recorder

__all__ = ["recorder", "second_recorder"]

PRIVATE_URLS = [
    "https://10.1.2.3/fhir",
    "https://172.16.0.5/fhir",
    "https://172.31.255.254/fhir",
    "https://192.168.1.10/fhir",
    "https://169.254.169.254/latest/meta-data/",
    "https://127.0.0.1/fhir",
    "https://127.8.9.10/fhir",
    "https://0.0.0.0/fhir",
    "https://100.64.0.1/fhir",  # shared address space (carrier-grade NAT)
    "https://224.0.0.1/fhir",  # multicast
    "https://255.255.255.255/fhir",
    "https://[::1]/fhir",
    "https://[::]/fhir",
    "https://[::ffff:127.0.0.1]/fhir",  # IPv4-mapped loopback
    "https://[::ffff:169.254.169.254]/fhir",
    "https://[::127.0.0.1]/fhir",  # IPv4-compatible loopback
    "https://[2002:7f00:1::]/fhir",  # 6to4 wrapping 127.0.0.1
    "https://[2002:a9fe:a9fe::]/fhir",  # 6to4 wrapping 169.254.169.254
    "https://[64:ff9b::a00:1]/fhir",  # NAT64 wrapping 10.0.0.1
    "https://[fe80::1]/fhir",
    "https://[fd00::1]/fhir",
    "https://[ff02::1]/fhir",
    "https://localhost/fhir",
    "https://LOCALHOST./fhir",
    "https://api.localhost/fhir",
]


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_a_private_or_reserved_address_in_any_form_is_refused(url: str) -> None:
    with pytest.raises(OutboundRefused) as refused:
        outbound.resolve(url)
    assert refused.value.code == "private"


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "0177.0.0.1", "127.1"])
def test_loopback_written_as_a_number_is_refused_once_resolved(host: str) -> None:
    with pytest.raises(OutboundRefused) as refused:
        outbound.resolve(f"https://{host}:8443/")
    assert refused.value.code == "private"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://fhir.hospital.example.jp/r4", "scheme"),
        ("ftp://fhir.hospital.example.jp/r4", "scheme"),
        ("file:///proc/self/environ", "scheme"),
        ("gopher://127.0.0.1:6379/_INFO", "scheme"),
        ("https://user:secret@fhir.hospital.example.jp/r4", "credentials"),
        ("https:///r4", "host"),
        ("https://fhir.hospital.example.jp:99999/r4", "port"),
    ],
)
def test_plain_http_other_schemes_credentials_and_bad_ports_are_refused(url: str, code: str) -> None:
    with pytest.raises(OutboundRefused) as refused:
        outbound.check_url(url)
    assert refused.value.code == code


def test_a_loopback_server_is_never_reached_unless_its_origin_is_allowed(recorder: RecordingServer, settings) -> None:
    settings.DEBUG = True  # development mode does not by itself allow loopback
    recorder.json("/x", {"ok": True})
    for url in (
        f"{recorder.origin}/x",
        f"https://127.0.0.1:{recorder.port}/x",
        f"http://[::ffff:127.0.0.1]:{recorder.port}/x",
    ):
        with pytest.raises(OutboundRefused):
            outbound.get_bytes(url, max_bytes=1024)
    assert recorder.received == []

    settings.MAMORI_OUTBOUND_ALLOW = [recorder.origin]

    assert outbound.get_bytes(f"{recorder.origin}/x", max_bytes=1024) == b'{"ok": true}'
    assert [r.path for r in recorder.received] == ["/x"]


def test_an_allowed_origin_allows_that_port_only(recorder: RecordingServer, settings) -> None:
    settings.MAMORI_OUTBOUND_ALLOW = [f"http://127.0.0.1:{recorder.port + 1}"]
    with pytest.raises(OutboundRefused):
        outbound.get_bytes(f"{recorder.origin}/x", max_bytes=1024)
    assert recorder.received == []


def test_the_request_keeps_the_host_name_while_it_connects_to_the_checked_address(
    recorder: RecordingServer, settings
) -> None:
    settings.MAMORI_OUTBOUND_ALLOW = [f"http://localhost:{recorder.port}"]
    if outbound.resolve(f"http://localhost:{recorder.port}/").address != "127.0.0.1":
        pytest.skip("localhost does not resolve to 127.0.0.1 first here")
    recorder.json("/x", {"ok": True})

    outbound.get_bytes(f"http://localhost:{recorder.port}/x", max_bytes=1024)

    [request] = recorder.received
    assert request.headers["Host"] == f"localhost:{recorder.port}"


def test_a_redirect_to_another_origin_is_refused_and_never_followed(
    recorder: RecordingServer, second_recorder: RecordingServer, settings
) -> None:
    settings.MAMORI_OUTBOUND_ALLOW = [recorder.origin, second_recorder.origin]  # both allowed, still refused
    recorder.redirect("/metadata", f"{second_recorder.origin}/metadata")
    second_recorder.json("/metadata", {"resourceType": "CapabilityStatement"})

    with pytest.raises(OutboundRefused) as refused:
        outbound.get_bytes(f"{recorder.origin}/metadata", max_bytes=1024)

    assert refused.value.code == "redirect"
    assert second_recorder.received == []


def test_a_redirect_to_cloud_metadata_is_refused(recorder: RecordingServer, settings) -> None:
    settings.MAMORI_OUTBOUND_ALLOW = [recorder.origin]
    recorder.redirect("/metadata", "http://169.254.169.254/latest/meta-data/iam/security-credentials/")

    with pytest.raises(OutboundRefused) as refused:
        outbound.get_bytes(f"{recorder.origin}/metadata", max_bytes=1024)
    assert refused.value.code == "redirect"


def test_a_redirect_within_the_origin_is_followed(recorder: RecordingServer, settings) -> None:
    settings.MAMORI_OUTBOUND_ALLOW = [recorder.origin]
    recorder.redirect("/old", "/new", status=301)
    recorder.json("/new", {"moved": True})

    assert outbound.get_bytes(f"{recorder.origin}/old", max_bytes=1024) == b'{"moved": true}'


@pytest.mark.parametrize(
    ("chunked", "gzipped"),
    [(False, False), (True, False), (False, True)],
    ids=["declared length", "chunked without a length", "gzip that expands past the limit"],
)
def test_an_answer_larger_than_the_limit_is_cut_with_a_clear_error(
    recorder: RecordingServer, settings, chunked: bool, gzipped: bool
) -> None:
    settings.MAMORI_OUTBOUND_ALLOW = [recorder.origin]
    settings.MAMORI_OUTBOUND_MAX_BYTES = 100_000
    recorder.big("/big", 2_000_000, chunked=chunked, gzipped=gzipped)

    with outbound.client() as http, pytest.raises(OutboundRefused) as refused:
        http.get(f"{recorder.origin}/big")

    assert refused.value.code == "too-large"
    assert str(refused.value) == "127.0.0.1 answered with more than 100000 bytes."


def test_a_compressed_answer_within_the_limit_is_read_whole(recorder: RecordingServer, settings) -> None:
    settings.MAMORI_OUTBOUND_ALLOW = [recorder.origin]
    recorder.big("/small", 50_000, gzipped=True)

    assert len(outbound.get_bytes(f"{recorder.origin}/small", max_bytes=60_000)) == 50_000


def test_a_name_that_does_not_resolve_may_be_stored_but_is_not_fetched() -> None:
    outbound.check_destination("https://fhir.hospital.invalid/r4")
    with pytest.raises(OutboundRefused) as refused:
        outbound.get_bytes("https://fhir.hospital.invalid/r4/metadata", max_bytes=1024)
    assert refused.value.code == "unresolved"
