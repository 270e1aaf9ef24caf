"""The Go verifier (golang.org/x/mod/sumdb/note and sumdb/tlog), built once per session for the log tests."""

from __future__ import annotations

import pytest

from tests.phr.tlog.go_tools import GoVerifier, build_go_verifier


@pytest.fixture(scope="session")
def go_verifier(tmp_path_factory: pytest.TempPathFactory) -> GoVerifier:
    return build_go_verifier(tmp_path_factory.mktemp("goverify"))
