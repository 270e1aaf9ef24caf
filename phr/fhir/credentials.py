"""An endpoint's client secret and private key, sealed with a system data key, each bound to its row and column.

Written only by ``phr.fhir.endpoints.set_endpoint_credentials``; opened only to authenticate to the endpoint.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.utils.translation import gettext as _

from phr.crypto.datakeys import decrypt, encrypt_with, system_data_key
from phr.fhir.errors import AuthorisationFailed
from phr.models import FhirEndpoint
from phr.models.fhir import SigningAlg

DATA_KEY_LABEL = "phr.fhir-endpoint-credentials"
CLIENT_SECRET = "client_secret"  # noqa: S105  (a column name, not a secret)
PRIVATE_KEY = "private_key"


def _context(endpoint: FhirEndpoint, name: str) -> str:
    return f"phr.endpoint.{name}:{endpoint.id}"


def seal(endpoint: FhirEndpoint, name: str, value: bytes) -> bytes:
    return encrypt_with(system_data_key(DATA_KEY_LABEL), value, context=_context(endpoint, name))


def _unseal(endpoint: FhirEndpoint, name: str) -> bytes | None:
    token = getattr(endpoint, f"{name}_encrypted")
    if not token:
        return None
    return decrypt(bytes(token), context=_context(endpoint, name))


def client_secret(endpoint: FhirEndpoint) -> str | None:
    sealed = _unseal(endpoint, CLIENT_SECRET)
    return sealed.decode("utf-8") if sealed is not None else None


def parse_private_key(pem: bytes, alg: str) -> Any:
    """The private key in ``pem`` (unencrypted PEM), checked against the algorithm it must sign with.

    Raises ValueError with a message safe to show.
    """
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(_("This is not an unencrypted PEM private key.")) from exc
    if alg == SigningAlg.RS384 and not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(_("RS384 needs an RSA private key."))
    if alg == SigningAlg.ES384 and not (
        isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP384R1)
    ):
        raise ValueError(_("ES384 needs a P-384 elliptic-curve private key."))
    return key


def private_key_pem(endpoint: FhirEndpoint) -> bytes | None:
    return _unseal(endpoint, PRIVATE_KEY)


def signing_key(endpoint: FhirEndpoint) -> Any | None:
    """The endpoint's private key for client assertions, or None when none was entered."""
    pem = private_key_pem(endpoint)
    if pem is None:
        return None
    try:
        return parse_private_key(pem, endpoint.signing_alg)
    except ValueError as exc:
        raise AuthorisationFailed(str(exc)) from exc
