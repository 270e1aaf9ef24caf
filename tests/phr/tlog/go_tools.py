"""Runs tests/phr/tlog/goverify/main.go: Go's golang.org/x/mod/sumdb/note and sumdb/tlog checking what the
Python code signed and proved. Built once per test session (GOPATH mode against Debian's
golang-golang-x-mod-dev, offline)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

GOPATH = Path("/usr/share/gocode")
X_MOD = GOPATH / "src/golang.org/x/mod/sumdb"
SOURCE = Path(__file__).parent / "goverify" / "main.go"


@dataclass(frozen=True)
class GoVerdict:
    """What the Go verifier said: ``ok`` when it exited 0, its last line otherwise."""

    ok: bool
    output: str


@dataclass(frozen=True)
class GoVerifier:
    """The built Go verifier and a scratch directory for its input files."""

    binary: Path
    scratch: Path

    def _file(self, name: str, content: str | bytes) -> str:
        path = self.scratch / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return str(path)

    def _run(self, args: list[str]) -> GoVerdict:
        done = subprocess.run([str(self.binary), *args], capture_output=True, text=True, timeout=60, check=False)
        return GoVerdict(done.returncode == 0, (done.stdout + done.stderr).strip())

    def _common(self, command: str, vkeys: Sequence[str], origin: str) -> list[str]:
        return [command, "-vkeys", self._file("vkeys", "".join(f"{key}\n" for key in vkeys)), "-origin", origin]

    def checkpoint(self, signed: str, *, vkeys: Sequence[str], origin: str) -> GoVerdict:
        return self._run([*self._common("checkpoint", vkeys, origin), self._file("checkpoint", signed)])

    def inclusion(self, proof: str, entry: bytes, *, vkeys: Sequence[str], origin: str) -> GoVerdict:
        args = self._common("inclusion", vkeys, origin)
        return self._run([*args, "-entry", self._file("entry", entry), self._file("proof", proof)])

    def consistency(
        self, proof: str, old: str, *, vkeys: Sequence[str], origin: str, new: str | None = None
    ) -> GoVerdict:
        args = [*self._common("consistency", vkeys, origin), "-old", self._file("old", old)]
        if new is not None:
            args += ["-new", self._file("new", new)]
        return self._run([*args, self._file("proof", proof)])


def build_go_verifier(directory: Path) -> GoVerifier:
    """Build main.go into ``directory``; skip (saying why) where Go or golang.org/x/mod is not installed."""
    go = shutil.which("go")
    if go is None or not X_MOD.is_dir():
        pytest.skip("needs Go and golang.org/x/mod (apt-get install golang-go golang-golang-x-mod-dev)")
    binary = directory / "goverify"
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": str(GOPATH),
        "GOCACHE": str(directory / "cache"),
        "GOFLAGS": "",
        "GOTOOLCHAIN": "local",
        "GOENV": "off",
        "GOPROXY": "off",
        "CGO_ENABLED": "0",
    }
    done = subprocess.run(
        [go, "build", "-o", str(binary), str(SOURCE)], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, f"go build failed:\n{done.stderr}"
    scratch = directory / "scratch"
    scratch.mkdir()
    return GoVerifier(binary, scratch)
