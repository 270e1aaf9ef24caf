"""Signing and verifying receipts with Ed25519 over canonical JSON.

Canonical JSON here is UTF-8 with sorted keys and no whitespace (``json.dumps(sort_keys=True,
separators=(",", ":"), ensure_ascii=False)``); a receipt document is::

    {"receipt": {…27560 record…}, "signature": {"alg": "EdDSA", "kid": "…", "value": "<base64url>"}}

Verification needs only the document and the public key of ``kid``: the keys endpoint publishes every
key ever used (rotation adds a key and retires the old one, which stays published), so receipts can be
checked offline for as long as they exist.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from consent.models import SigningKey
from consent.receipts.keys import ReceiptKey, b64url, b64url_decode, parse_signing_keys

ALGORITHM = "EdDSA"


def canonical_json(value: object) -> bytes:
    """The exact bytes that are signed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@cache
def _configured(setting: str) -> tuple[ReceiptKey, ...]:
    return parse_signing_keys(setting)


def configured_keys() -> tuple[ReceiptKey, ...]:
    return _configured(settings.MAMORI_RECEIPT_SIGNING_KEYS)


@transaction.atomic
def publish_configured_keys() -> list[SigningKey]:
    """Make sure every configured key's public half is published; retire published keys no longer first.

    A configured key id whose published public key differs refuses to go on: reusing an id for a new key
    would make old receipts unverifiable.
    """
    keys = configured_keys()
    published = []
    for index, key in enumerate(keys):
        row, _created = SigningKey.objects.get_or_create(key_id=key.key_id, defaults={"public_key": key.public_b64})
        if row.public_key != key.public_b64:
            raise ImproperlyConfigured(f"receipt key id {key.key_id} is already published with another public key")
        if index == 0 and row.retired_at is not None:
            raise ImproperlyConfigured(f"receipt key {key.key_id} was retired; give a new key id")
        published.append(row)
    SigningKey.objects.exclude(key_id=keys[0].key_id).filter(retired_at__isnull=True).update(retired_at=timezone.now())
    return published


def sign(payload: Mapping[str, Any]) -> tuple[str, str]:
    """(key id, base64url signature) of the canonical JSON of ``payload`` with the current key."""
    key = configured_keys()[0]
    if not SigningKey.objects.filter(key_id=key.key_id, public_key=key.public_b64, retired_at__isnull=True).exists():
        publish_configured_keys()
    return key.key_id, b64url(key.private.sign(canonical_json(payload)))


def receipt_document(payload: Mapping[str, Any], key_id: str, signature: str) -> dict[str, Any]:
    return {"receipt": dict(payload), "signature": {"alg": ALGORITHM, "kid": key_id, "value": signature}}


@dataclass(frozen=True)
class Verification:
    """The outcome of checking a receipt document: valid or not, and why not."""

    valid: bool
    key_id: str | None
    record_id: str | None
    problem: str | None = None


def _public_key(key_id: str) -> Ed25519PublicKey | None:
    row = SigningKey.objects.filter(key_id=key_id).first()
    if row is None:
        return None
    return Ed25519PublicKey.from_public_bytes(b64url_decode(row.public_key))


def verify_document(document: object) -> Verification:
    """Check a receipt document against the published keys. Never raises on bad input."""
    if not isinstance(document, dict) or set(document) != {"receipt", "signature"}:
        return Verification(False, None, None, "a receipt document has exactly 'receipt' and 'signature'")
    receipt, signature = document["receipt"], document["signature"]
    if not isinstance(receipt, dict) or not isinstance(signature, dict):
        return Verification(False, None, None, "'receipt' and 'signature' must be objects")
    record_id = receipt.get("record_id") if isinstance(receipt.get("record_id"), str) else None
    key_id, value = signature.get("kid"), signature.get("value")
    if signature.get("alg") != ALGORITHM or not isinstance(key_id, str) or not isinstance(value, str):
        return Verification(False, None, record_id, "the signature must have alg EdDSA, a kid and a value")
    public = _public_key(key_id)
    if public is None:
        return Verification(False, key_id, record_id, f"no published key has the id {key_id!r}")
    try:
        public.verify(b64url_decode(value), canonical_json(receipt))
    except (InvalidSignature, ValueError):
        return Verification(False, key_id, record_id, "the signature does not match the receipt")
    return Verification(True, key_id, record_id)


def verify_bytes(data: bytes) -> Verification:
    """Check a downloaded receipt file as bytes (the verify command and endpoint)."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return Verification(False, None, None, "the file is not JSON")
    return verify_document(document)


def public_jwks() -> dict[str, Any]:
    """Every published key as a JWK Set of OKP Ed25519 keys (RFC 8037), retired ones included."""
    return {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": row.public_key,
                "kid": row.key_id,
                "alg": ALGORITHM,
                "use": "sig",
                "created": row.created_at.isoformat(),
                "retired": row.retired_at.isoformat() if row.retired_at else None,
            }
            for row in SigningKey.objects.order_by("created_at", "key_id")
        ]
    }
