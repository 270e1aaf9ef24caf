"""Pure helpers of the FHIR client: retry waits, scopes, where a token may go, which references to resolve."""

from __future__ import annotations

from datetime import UTC, datetime

from phr.fhir.fetch import reference_key
from phr.fhir.http import same_base
from phr.fhir.retry import RetryPolicy, parse_retry_after
from phr.fhir.scopes import patient_launch_scope, system_scope
from phr.fhir.smart_launch import pkce_pair


def test_retry_after_is_read_in_seconds_or_as_an_http_date() -> None:
    now = datetime(2026, 11, 21, 6, 0, 0, tzinfo=UTC)
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Sat, 21 Nov 2026 06:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_waits_double_up_to_a_bound_and_the_server_cannot_ask_for_more() -> None:
    policy = RetryPolicy(attempts=5, base_delay=0.5, max_delay=4.0)
    assert [policy.delay(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert policy.delay(1, "3600") == 4.0


def test_scopes_are_v2_read_and_search_or_v1_read() -> None:
    launch = patient_launch_scope("v2").split()
    assert launch[:4] == ["launch/patient", "openid", "fhirUser", "offline_access"]
    assert "patient/Condition.rs" in launch and "patient/Practitioner.rs" in launch
    assert "patient/Condition.read" in patient_launch_scope("v1").split()
    assert system_scope("v1").split()[0] == "system/Patient.read"


def test_a_token_goes_only_to_urls_under_the_endpoints_base() -> None:
    base = "https://fhir.example.jp/r4"
    assert same_base(base, "https://fhir.example.jp/r4/Observation?_offset=20")
    assert not same_base(base, "https://fhir.example.jp/r4-other/Observation")
    assert not same_base(base, "https://evil.example/r4/Observation")
    assert not same_base(base, "http://fhir.example.jp/r4/Observation")


def test_only_literal_references_to_this_server_are_resolved() -> None:
    base = "https://fhir.example.jp/r4"
    assert reference_key("Practitioner/p1", base) == ("Practitioner", "p1")
    assert reference_key("Medication/m1/_history/2", base) == ("Medication", "m1")
    assert reference_key("https://fhir.example.jp/r4/Organization/o1", base) == ("Organization", "o1")
    assert reference_key("https://other.example/Organization/o1", base) is None
    assert reference_key("#contained-1", base) is None
    assert reference_key("urn:uuid:0a48a4bf-0d87-4efb-aafd-d45e0842a4dd", base) is None


def test_the_pkce_challenge_is_the_s256_of_a_long_verifier() -> None:
    import base64
    import hashlib

    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert challenge == digest
