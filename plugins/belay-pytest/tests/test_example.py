"""The worked example of docs/testing.md, examples/board-tests, runs as the page says on the emulated boards."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "board-tests"


@pytest.fixture
def example(pytester: pytest.Pytester) -> Path:
    shutil.copytree(EXAMPLE, pytester.path, dirs_exist_ok=True)
    return pytester.path


SKIPS = [
    "SKIPPED [[]1[]] tests/test_driver.py:20: wasm lacks tag fast",
    "SKIPPED [[]1[]] tests/test_driver.py:25: wasm lacks feature thread",
]


def test_spread_over_the_boards(pytester: pytest.Pytester, example: Path):
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-n", "auto", "--belay-fleet", "boards.toml", "-rs")
    outcomes = result.parseoutcomes()
    assert result.ret == 0 and outcomes["passed"] + outcomes.get("skipped", 0) == 4
    result.stdout.fnmatch_lines(["created: 2/2 workers"])
    skips = [line for line in result.stdout.lines if line.startswith("SKIPPED")]
    assert all("wasm lacks" in line for line in skips)  # the test goes where the worker is free


def test_every_test_on_every_board(pytester: pytest.Pytester, example: Path):
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "-n", "auto", "--dist", "each", "--belay-fleet", "boards.toml", "-rs"
    )
    result.assert_outcomes(passed=6, skipped=2)
    result.stdout.fnmatch_lines(SKIPS)
