"""Fixtures of the package manager's tests: the emulated boards whose filesystem has folders."""

from __future__ import annotations

import pytest


@pytest.fixture(params=("unix", "wasm"))
def tree_board(request: pytest.FixtureRequest) -> str:
    """The emulated boards whose filesystem has folders (the micro:bit's is flat), as specs."""
    from belay_emulator import boards

    reason = boards.load(request.param).unavailable()
    if reason is not None:
        pytest.fail(f"emulated board {request.param} cannot run here: {reason}")
    return f"emu:{request.param}"
