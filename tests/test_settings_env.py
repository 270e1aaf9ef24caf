"""The typed environment readers refuse bad values, and production refuses to start without secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parent.parent


def test_it_reads_a_boolean_in_its_usual_spellings() -> None:
    assert env_bool("X", False, environ={"X": "yes"}) is True
    assert env_bool("X", True, environ={"X": "0"}) is False
    assert env_bool("X", True, environ={}) is True


def test_it_refuses_a_boolean_it_cannot_read() -> None:
    with pytest.raises(ImproperlyConfigured, match="X='maybe' is not a boolean"):
        env_bool("X", False, environ={"X": "maybe"})


def test_it_refuses_a_number_that_is_not_whole_or_out_of_range() -> None:
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("PORT", 1, environ={"PORT": "80a"})
    with pytest.raises(ImproperlyConfigured, match="above the maximum"):
        env_int("PORT", 1, maximum=65535, environ={"PORT": "70000"})
    assert env_int("PORT", 1, environ={"PORT": " 8000 "}) == 8000


def test_it_refuses_a_list_with_an_empty_item() -> None:
    with pytest.raises(ImproperlyConfigured, match="empty item"):
        env_list("HOSTS", environ={"HOSTS": "a.example,,b.example"})
    assert env_list("HOSTS", environ={"HOSTS": "a.example, b.example"}) == ["a.example", "b.example"]


def test_it_refuses_a_value_outside_the_choices() -> None:
    with pytest.raises(ImproperlyConfigured, match="not one of"):
        env_choice("LEVEL", ("INFO", "DEBUG"), "INFO", environ={"LEVEL": "LOUD"})


def test_a_required_value_that_is_missing_is_named() -> None:
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY must be set"):
        env_str("DJANGO_SECRET_KEY", environ={})


def test_a_secret_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret-value\n")
    assert env_str("TOKEN", environ={"TOKEN_FILE": str(secret)}) == "s3cret-value"


def test_a_secret_file_that_cannot_be_read_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        env_str("TOKEN", environ={"TOKEN_FILE": str(tmp_path / "missing")})


def test_a_secret_set_twice_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("x")
    with pytest.raises(ImproperlyConfigured, match="both set"):
        env_str("TOKEN", environ={"TOKEN": "y", "TOKEN_FILE": str(secret)})


def _load_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MAMORI_"))}
    clean.update(env)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    result = _load_settings({"DJANGO_DEBUG": "false", "MAMORI_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_encryption_keys_or_hosts(tmp_path: Path) -> None:
    base = {"DJANGO_DEBUG": "false", "MAMORI_VAR_DIR": str(tmp_path), "DJANGO_SECRET_KEY": "k" * 60}
    result = _load_settings(base)
    assert "MAMORI_ENCRYPTION_KEYS must be set" in result.stderr
    result = _load_settings({**base, "MAMORI_ENCRYPTION_KEYS": "k1:" + "A" * 43, "MAMORI_BLIND_INDEX_KEY": "B" * 43})
    assert "DJANGO_ALLOWED_HOSTS must be set" in result.stderr


def test_production_starts_when_everything_is_supplied(tmp_path: Path) -> None:
    result = _load_settings(
        {
            "DJANGO_DEBUG": "false",
            "MAMORI_VAR_DIR": str(tmp_path),
            "DJANGO_SECRET_KEY": "k" * 60,
            "MAMORI_ENCRYPTION_KEYS": "k1:" + "A" * 43,
            "MAMORI_BLIND_INDEX_KEY": "B" * 43,
            "MAMORI_RECEIPT_SIGNING_KEYS": "r1:" + "C" * 43,
            "MAMORI_LOG_SIGNING_KEYS": "l1:" + "D" * 43,
            "DJANGO_ALLOWED_HOSTS": "mamori.example.jp",
        }
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
