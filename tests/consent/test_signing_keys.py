"""Receipt-signing keys come from MAMORI_RECEIPT_SIGNING_KEYS; production refuses to start without them."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from consent.receipts.keys import SigningKeyError, development_signing_keys, parse_signing_keys

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "k" * 60,
    "MAMORI_ENCRYPTION_KEYS": "k1:" + "A" * 43,
    "MAMORI_BLIND_INDEX_KEY": "B" * 43,
    "DJANGO_ALLOWED_HOSTS": "mamori.example.jp",
}


def _start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MAMORI_"))}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**clean, **env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_to_start_without_receipt_signing_keys(tmp_path: Path) -> None:
    result = _start({**PRODUCTION, "MAMORI_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "MAMORI_RECEIPT_SIGNING_KEYS must be set" in result.stderr


def test_production_refuses_a_malformed_signing_key(tmp_path: Path) -> None:
    result = _start({**PRODUCTION, "MAMORI_VAR_DIR": str(tmp_path), "MAMORI_RECEIPT_SIGNING_KEYS": "r1:" + "A" * 20})
    assert result.returncode != 0
    assert "32 bytes" in result.stderr


@pytest.mark.parametrize("setting", ["", "nokey", "r1:" + "A" * 43 + ",r1:" + "B" * 43, "bad id:" + "A" * 43])
def test_malformed_settings_are_refused(setting: str) -> None:
    with pytest.raises(SigningKeyError):
        parse_signing_keys(setting)


def test_development_keys_are_made_once_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    first = development_signing_keys(path)
    assert development_signing_keys(path) == first
    assert parse_signing_keys(first)[0].key_id == "dev-receipts-1"
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_the_command_prints_a_key_that_the_setting_accepts() -> None:
    out = StringIO()
    call_command("generate_receipt_key", "receipts-2027", stdout=out)
    (key,) = parse_signing_keys(out.getvalue().strip())
    assert key.key_id == "receipts-2027"
