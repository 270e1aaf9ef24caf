"""A minimal Mamori API client: signed RS384 (or ES384) client assertion → access token → a decision.

Needs httpx and PyJWT[crypto]. Make a key and print the public JWKS to paste into the staff page
"API clients → Register a client":

    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out ehr-key.pem
    python docs/examples/api_client.py jwks --key ehr-key.pem --kid ehr-2026

Then ask for a decision with the client id the page showed:

    python docs/examples/api_client.py decision --base-url http://127.0.0.1:8000 \\
        --client-id mamori-... --key ehr-key.pem --kid ehr-2026 \\
        --identifier 'urn:oid:1.2.392.1|12345' --project PROJECT_ID
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def load_key(path: str) -> Any:
    return serialization.load_pem_private_key(Path(path).read_bytes(), password=None)


def algorithm_for(key: Any) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS384"
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP384R1):
        return "ES384"
    raise SystemExit("use an RSA key or an EC key on curve P-384")


def public_jwks(key: Any, kid: str) -> dict[str, Any]:
    alg = algorithm_for(key)
    algorithm = jwt.algorithms.RSAAlgorithm if alg == "RS384" else jwt.algorithms.ECAlgorithm
    jwk = algorithm.to_jwk(key.public_key(), as_dict=True)
    return {"keys": [{**jwk, "kid": kid, "alg": alg, "use": "sig"}]}


def client_assertion(*, client_id: str, token_url: str, key: Any, kid: str) -> str:
    """iss = sub = client id, aud = the token URL, a fresh jti, expiring in four minutes (five at most)."""
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": token_url,
        "jti": secrets.token_urlsafe(24),
        "iat": now,
        "exp": now + 240,
    }
    return jwt.encode(claims, key, algorithm=algorithm_for(key), headers={"kid": kid, "typ": "JWT"})


def access_token(http: httpx.Client, *, client_id: str, key: Any, kid: str, scope: str) -> str:
    token_url = http.get("/.well-known/smart-configuration").raise_for_status().json()["token_endpoint"]
    response = http.post(
        token_url,
        data={
            "grant_type": "client_credentials",
            "scope": scope,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client_assertion(client_id=client_id, token_url=token_url, key=key, kid=kid),
        },
    )
    if response.status_code != 200:
        raise SystemExit(f"token refused ({response.status_code}): {response.text}")
    return str(response.json()["access_token"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("jwks", help="print the public JWKS of a private key")
    show.add_argument("--key", required=True)
    show.add_argument("--kid", required=True)
    ask = commands.add_parser("decision", help="get a token and one decision")
    ask.add_argument("--base-url", default="http://127.0.0.1:8000")
    ask.add_argument("--client-id", required=True)
    ask.add_argument("--key", required=True)
    ask.add_argument("--kid", required=True)
    ask.add_argument("--identifier", required=True, help="SYSTEM|VALUE")
    ask.add_argument("--project", required=True)
    ask.add_argument("--scope", default="consent.check")
    args = parser.parse_args(argv)

    key = load_key(args.key)
    if args.command == "jwks":
        print(json.dumps(public_jwks(key, args.kid), indent=2))
        return 0
    with httpx.Client(base_url=args.base_url, timeout=10.0) as http:
        token = access_token(http, client_id=args.client_id, key=key, kid=args.kid, scope=args.scope)
        response = http.get(
            "/api/v1/decisions",
            params={"identifier": args.identifier, "project": args.project},
            headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
        )
    print(json.dumps(response.json(), indent=2, ensure_ascii=False))
    return 0 if response.status_code == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
