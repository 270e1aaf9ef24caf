"""Receipts: ISO/IEC TS 27560 fields, Ed25519 over canonical JSON, verification offline, by command and
endpoint, key rotation, and the person's download and readable page."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import Client

from consent import services
from consent.models import SigningKey
from consent.receipts.keys import new_key_setting
from consent.receipts.signing import (
    canonical_json,
    publish_configured_keys,
    receipt_document,
    verify_bytes,
    verify_document,
)
from tests.conftest import sign_in

FIELDS_27560 = {
    "schema_version",
    "record_id",
    "principal",
    "controller",
    "purposes",
    "data_categories",
    "jurisdiction",
    "retention",
    "recipients",
    "withdrawal_method",
    "event",
    "state",
}


@pytest.fixture
def receipt(alice, study):
    return services.decide_project(person=alice, actor=alice.user, project=study, accept=True).receipt


def document(receipt) -> dict:
    return receipt_document(receipt.payload, receipt.key_id, receipt.signature)


def test_a_receipt_has_the_27560_fields_and_no_name_or_identifier(receipt, alice, study) -> None:
    payload = receipt.payload
    assert set(payload) >= FIELDS_27560
    assert payload["jurisdiction"] == "JP"
    assert payload["record_id"] == str(receipt.pk)
    assert payload["principal"]["id"] == f"urn:mamori:person:{alice.pk}"
    assert payload["purposes"] == [{"purpose_class": "academic_research", "project": f"urn:mamori:project:{study.pk}"}]
    assert payload["data_categories"] == ["diagnoses", "lab_results", "prescriptions"]
    assert payload["recipients"] == [f"urn:mamori:organisation:{study.organisation_id}"]
    assert payload["event"]["type"] == "project.accepted"
    assert payload["state"]["version"] == 1
    assert alice.family_name not in json.dumps(payload, ensure_ascii=False)


def test_canonical_json_has_sorted_keys_and_no_whitespace() -> None:
    assert canonical_json({"b": 1, "a": [1, {"d": "守", "c": None}]}) == '{"a":[1,{"c":null,"d":"守"}],"b":1}'.encode()


def test_a_receipt_verifies(receipt) -> None:
    result = verify_document(document(receipt))
    assert (result.valid, result.record_id, result.key_id) == (True, str(receipt.pk), receipt.key_id)


def test_a_receipt_with_one_byte_changed_fails_verification(receipt) -> None:
    data = bytearray(json.dumps(document(receipt), ensure_ascii=False).encode("utf-8"))
    assert verify_bytes(bytes(data)).valid
    position = data.index(b'"jurisdiction":') + len(b'"jurisdiction": "')
    data[position] = ord("U")  # JP → UP
    result = verify_bytes(bytes(data))
    assert not result.valid
    assert "does not match" in (result.problem or "")


def test_a_changed_signature_fails_verification(receipt) -> None:
    doc = document(receipt)
    value = doc["signature"]["value"]
    doc["signature"]["value"] = ("A" if value[0] != "A" else "B") + value[1:]
    assert not verify_document(doc).valid


def test_rotating_the_key_signs_with_the_new_key_and_keeps_old_receipts_verifiable(receipt, alice, settings) -> None:
    old = settings.MAMORI_RECEIPT_SIGNING_KEYS
    settings.MAMORI_RECEIPT_SIGNING_KEYS = f"{new_key_setting('rotated-2027')},{old}"
    newer = services.set_global_opt_out(person=alice, actor=alice.user, opted_out=True).receipt
    assert newer.key_id == "rotated-2027"
    assert verify_document(document(newer)).valid
    assert verify_document(document(receipt)).valid
    assert SigningKey.objects.get(key_id=receipt.key_id).retired_at is not None
    settings.MAMORI_RECEIPT_SIGNING_KEYS = new_key_setting("rotated-2028")
    assert verify_document(document(receipt)).valid


def test_the_verify_command_accepts_a_good_receipt_and_refuses_a_changed_one(receipt, tmp_path) -> None:
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(document(receipt)), encoding="utf-8")
    out = StringIO()
    call_command("verify_receipt", str(path), stdout=out)
    assert out.getvalue().startswith("VALID")
    path.write_text(json.dumps(document(receipt)).replace('"JP"', '"US"'), encoding="utf-8")
    with pytest.raises(CommandError, match="INVALID"):
        call_command("verify_receipt", str(path))
    with pytest.raises(CommandError, match="cannot read"):
        call_command("verify_receipt", str(tmp_path / "missing.json"))


def test_the_verify_endpoint_answers_valid_and_invalid(receipt, client: Client) -> None:
    doc = document(receipt)
    response = client.post("/api/v1/receipts/verify", doc, content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {"valid": True, "record_id": str(receipt.pk), "key_id": receipt.key_id, "problem": None}
    doc["receipt"]["jurisdiction"] = "US"
    response = client.post("/api/v1/receipts/verify", doc, content_type="application/json")
    assert response.json()["valid"] is False


@pytest.mark.parametrize("body", ["not json", "[]", '{"receipt": {}}', '{"receipt": 1, "signature": {}}'])
def test_the_verify_endpoint_answers_a_problem_for_what_is_not_a_receipt(db, client: Client, body) -> None:
    response = client.post("/api/v1/receipts/verify", body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_the_keys_endpoint_publishes_current_and_retired_keys_as_okp(receipt, client: Client, settings) -> None:
    settings.MAMORI_RECEIPT_SIGNING_KEYS = f"{new_key_setting('next')},{settings.MAMORI_RECEIPT_SIGNING_KEYS}"
    publish_configured_keys()
    keys = client.get("/api/v1/receipts/keys").json()["keys"]
    assert {k["kid"] for k in keys} == {receipt.key_id, "next"}
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and len(k["x"]) == 43 for k in keys)
    assert [k["kid"] for k in keys if k["retired"]] == [receipt.key_id]


def test_the_person_downloads_their_receipt_as_json_and_reads_it(receipt, alice, client: Client) -> None:
    sign_in(client, "alice@example.test")
    response = client.get(f"/receipts/{receipt.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert verify_bytes(response.content).valid
    page = client.get(f"/receipts/{receipt.pk}/")
    assert page.status_code == 200
    assert "肺がんの研究" in page.content.decode()


def test_a_proxy_reads_the_receipt_and_the_person_sees_that_they_did(receipt, alice, parent, client: Client) -> None:
    sign_in(client, "carol@example.test")
    assert client.get(f"/receipts/{receipt.pk}/").status_code == 200
    assert alice.audit_events.filter(action="consent.receipt_viewed_by_proxy").exists()


def test_nobody_else_sees_a_receipt(receipt, bob, client: Client) -> None:
    sign_in(client, "bob@example.test")
    assert client.get(f"/receipts/{receipt.pk}/").status_code == 404
    assert client.get(f"/receipts/{receipt.pk}/download/").status_code == 404
    assert client.get("/receipts/not-a-uuid/").status_code == 404


def test_signing_refuses_a_key_id_reused_for_another_key(receipt, alice, settings) -> None:
    settings.MAMORI_RECEIPT_SIGNING_KEYS = new_key_setting(receipt.key_id)
    with pytest.raises(ImproperlyConfigured, match="another public key"):
        services.set_global_opt_out(person=alice, actor=alice.user, opted_out=True)
