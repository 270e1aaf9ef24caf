"""Checkpoint texts as C2SP tlog-checkpoint defines them, read strictly."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phr.tlog.checkpoint import Checkpoint, CheckpointError

ROOT = bytes(range(32))
ROOT64 = base64.b64encode(ROOT).decode()

lines = st.text(st.characters(blacklist_characters="\n", blacklist_categories=["Cs"]), min_size=1, max_size=30)


def test_a_checkpoint_is_origin_size_and_base64_root_each_on_its_line() -> None:
    checkpoint = Checkpoint("mamori.example/logs/audit", 20852163, ROOT)

    assert checkpoint.text() == f"mamori.example/logs/audit\n20852163\n{ROOT64}\n"


@given(
    origin=lines,
    size=st.integers(min_value=0, max_value=2**63 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(lines, max_size=3).map(tuple),
)
def test_every_checkpoint_reads_back_from_its_text(origin, size, root, extensions) -> None:
    checkpoint = Checkpoint(origin, size, root, extensions)

    assert Checkpoint.parse(checkpoint.text()) == checkpoint


@pytest.mark.parametrize(
    "text",
    [
        f"origin\n07\n{ROOT64}\n",  # a leading zero
        f"origin\n-1\n{ROOT64}\n",
        f"origin\n+7\n{ROOT64}\n",
        f"origin\n٧\n{ROOT64}\n",  # a non-ASCII digit
        f"origin\n{2**63}\n{ROOT64}\n",  # beyond int64
        f"origin\n7\n{ROOT64}",  # no final newline
        "origin\n7\n",  # no root
        f"origin\n7\n{ROOT64[:-4]}\n",  # a short root
        f"origin\n7\n{ROOT64.rstrip('=')}\n",  # unpadded base64
        f"origin\n7\n{ROOT64}\n\nextension\n",  # an empty extension line
        f"\n7\n{ROOT64}\n",  # no origin
    ],
)
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint.parse(text)


def test_extension_lines_are_kept() -> None:
    assert Checkpoint.parse(f"origin\n7\n{ROOT64}\nts 1\n").extensions == ("ts 1",)
