"""Envelope encryption: values round-trip, the wrong key or row fails loudly, rotation keeps data readable."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from phr.crypto import DecryptionError, KeyConfigurationError
from phr.crypto.datakeys import clear_cache, data_key_for, decrypt, encrypt_for_person, sealer_for
from phr.crypto.keyring import Keyring, generate_key_spec
from phr.models import DataKey, Identifier, Person

OLD_KEY = generate_key_spec("old")
NEW_KEY = generate_key_spec("new")


@pytest.fixture(autouse=True)
def _fresh_unwrap_cache():
    clear_cache()
    yield
    clear_cache()


def test_a_value_round_trips(alice: Person) -> None:
    token = encrypt_for_person(alice, "高血圧症 3.10".encode(), context="test.value:1")
    assert b"3.10" not in token
    assert decrypt(token, context="test.value:1").decode() == "高血圧症 3.10"


def test_a_value_moved_to_another_row_does_not_open(alice: Person) -> None:
    token = encrypt_for_person(alice, b"secret", context="test.value:1")
    with pytest.raises(DecryptionError):
        decrypt(token, context="test.value:2")


def test_a_tampered_value_does_not_open(alice: Person) -> None:
    token = bytearray(encrypt_for_person(alice, b"secret", context="c"))
    token[-1] ^= 0x01
    with pytest.raises(DecryptionError):
        decrypt(bytes(token), context="c")


def test_garbage_is_never_returned_as_data() -> None:
    with pytest.raises(DecryptionError):
        decrypt(b"plain text that was never encrypted", context="c")


def test_the_wrong_key_raises_instead_of_returning_ciphertext(alice: Person, settings) -> None:
    settings.MAMORI_ENCRYPTION_KEYS = OLD_KEY
    token = encrypt_for_person(alice, b"secret", context="c")
    clear_cache()
    settings.MAMORI_ENCRYPTION_KEYS = f"old:{NEW_KEY.split(':', 1)[1]}"  # same id, different key material
    with pytest.raises(DecryptionError):
        decrypt(token, context="c")


def test_a_key_id_that_is_no_longer_configured_is_named(alice: Person, settings) -> None:
    settings.MAMORI_ENCRYPTION_KEYS = OLD_KEY
    token = encrypt_for_person(alice, b"secret", context="c")
    clear_cache()
    settings.MAMORI_ENCRYPTION_KEYS = NEW_KEY
    with pytest.raises(KeyConfigurationError, match="key id old is not configured"):
        decrypt(token, context="c")


def test_rotation_rewraps_every_data_key_and_keeps_data_readable(alice: Person, bob: Person, settings) -> None:
    from phr import services

    settings.MAMORI_ENCRYPTION_KEYS = OLD_KEY
    services.link_identifier(person=alice, system="urn:test", value="A-1", actor=None)
    services.link_identifier(person=bob, system="urn:test", value="B-2", actor=None)
    token = encrypt_for_person(alice, b"lab result", context="c")

    settings.MAMORI_ENCRYPTION_KEYS = f"{NEW_KEY},{OLD_KEY}"
    out = io.StringIO()
    call_command("rotate_keys", stdout=out)
    assert "0 remain under other keys" in out.getvalue()
    assert set(DataKey.objects.values_list("kek_id", flat=True)) == {"new"}

    clear_cache()
    settings.MAMORI_ENCRYPTION_KEYS = NEW_KEY  # the old key is gone entirely
    assert decrypt(token, context="c") == b"lab result"
    from phr.selectors import identifiers_of, person_by_identifier

    assert [i.value for i in identifiers_of(alice)] == ["A-1"]
    assert person_by_identifier("urn:test", "B-2") == bob


def test_rotation_is_safe_to_run_twice(alice: Person, settings) -> None:
    encrypt_for_person(alice, b"x", context="c")
    settings.MAMORI_ENCRYPTION_KEYS = f"{NEW_KEY},{settings.MAMORI_ENCRYPTION_KEYS}"
    call_command("rotate_keys", stdout=io.StringIO())
    out = io.StringIO()
    call_command("rotate_keys", stdout=out)
    assert out.getvalue().startswith("re-wrapped 0 data keys")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "kid:base64key"),
        ("k1:c2hvcnQ", "32 bytes"),
        ("k1:%%%", "base64"),
        (f"{OLD_KEY},{OLD_KEY}", "appears twice"),
        ("bad id!:AAAA", "kid:base64key"),
    ],
)
def test_a_bad_key_configuration_is_refused(spec: str, message: str) -> None:
    with pytest.raises(KeyConfigurationError, match=message):
        Keyring.parse(spec)


def test_identifier_values_are_not_stored_in_clear(alice: Person) -> None:
    from phr import services

    services.link_identifier(person=alice, system="urn:test", value="PATIENT-12345", actor=None)
    stored = Identifier.objects.get(person=alice)
    assert b"PATIENT-12345" not in bytes(stored.value_encrypted)
    assert "PATIENT-12345" not in stored.blind_index
    assert "PATIENT-12345" not in str(stored) and "PATIENT-12345" not in repr(stored)


def test_a_sealer_seals_as_encrypt_does_with_a_nonce_of_its_own_each_time(alice: Person) -> None:
    sealer = sealer_for(data_key_for(alice))
    first, second = sealer.seal(b"3.10 mmol/L", "phr.test:1"), sealer.seal(b"3.10 mmol/L", "phr.test:1")
    assert first != second
    assert decrypt(first, context="phr.test:1") == decrypt(second, context="phr.test:1") == b"3.10 mmol/L"
    with pytest.raises(DecryptionError):
        decrypt(first, context="phr.test:2")
