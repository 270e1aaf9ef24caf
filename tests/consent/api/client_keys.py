"""Keys and client assertions for the OAuth tests, generated with cryptography (no fixtures on disk)."""

from __future__ import annotations

import secrets
import time
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from consent.api.assertions import ASSERTION_TYPE, token_url
from consent.models import ApiClient


@cache
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@cache
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


def public_jwk(key: Any, kid: str) -> dict[str, Any]:
    algorithm = jwt.algorithms.RSAAlgorithm if isinstance(key, rsa.RSAPrivateKey) else jwt.algorithms.ECAlgorithm
    jwk: dict[str, Any] = algorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid}


def jwks(*pairs: tuple[Any, str]) -> dict[str, Any]:
    return {"keys": [public_jwk(key, kid) for key, kid in pairs]}


def assertion(
    client: ApiClient | str,
    *,
    key: Any = None,
    alg: str = "RS384",
    kid: str | None = "rsa-1",
    lifetime: int = 240,
    **overrides: Any,
) -> str:
    client_id = client if isinstance(client, str) else client.client_id
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": token_url(),
        "jti": secrets.token_urlsafe(16),
        "iat": now,
        "exp": now + lifetime,
        **overrides,
    }
    claims = {name: value for name, value in claims.items() if value is not None}
    headers = {"kid": kid} if kid else {}
    if key is None:
        key = rsa_key() if alg.startswith("RS") else ec_key()
    return jwt.encode(claims, key, algorithm=alg, headers=headers)


def assertion_form(signed: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed,
        **extra,
    }
