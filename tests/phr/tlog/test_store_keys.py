"""Checkpoint-signing keys come from MAMORI_LOG_SIGNING_KEYS like the receipt keys: production refuses to
start without them or with a malformed one; development makes its own under var/."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from phr.tlog.keys import LogKeyError, development_log_signing_keys, parse_log_signing_keys

ROOT = Path(__file__).resolve().parents[3]
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "k" * 60,
    "MAMORI_ENCRYPTION_KEYS": "k1:" + "A" * 43,
    "MAMORI_BLIND_INDEX_KEY": "B" * 43,
    "MAMORI_RECEIPT_SIGNING_KEYS": "r1:" + "C" * 43,
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


def test_production_refuses_to_start_without_checkpoint_signing_keys(tmp_path: Path) -> None:
    result = _start({**PRODUCTION, "MAMORI_VAR_DIR": str(tmp_path)})

    assert result.returncode != 0 and "MAMORI_LOG_SIGNING_KEYS must be set" in result.stderr


def test_production_refuses_a_malformed_checkpoint_key(tmp_path: Path) -> None:
    result = _start({**PRODUCTION, "MAMORI_VAR_DIR": str(tmp_path), "MAMORI_LOG_SIGNING_KEYS": "l1:" + "A" * 20})

    assert result.returncode != 0 and "MAMORI_LOG_SIGNING_KEYS" in result.stderr and "32 bytes" in result.stderr


def test_development_makes_one_key_and_keeps_it(tmp_path: Path) -> None:
    first = development_log_signing_keys(tmp_path / "keys.json")

    assert development_log_signing_keys(tmp_path / "keys.json") == first
    assert [key.key_id for key in parse_log_signing_keys(first)] == ["dev-logs-1"]


@pytest.mark.parametrize("setting", ["", "no-colon", "a:AAAA", "bad id:" + "A" * 43, f"a:{'A' * 43},a:{'B' * 43}"])
def test_a_malformed_setting_is_refused(setting: str) -> None:
    with pytest.raises(LogKeyError):
        parse_log_signing_keys(setting)


def test_generate_log_key_prints_a_usable_setting() -> None:
    out = StringIO()
    call_command("generate_log_key", "logs-2027", stdout=out)

    [key] = parse_log_signing_keys(out.getvalue().strip())
    assert key.key_id == "logs-2027" and len(key.public) == 32
