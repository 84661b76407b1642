"""What a replay (after a soft reset or reconnect) restores: the latest state, or a loud refusal."""

from __future__ import annotations

import linecache
from pathlib import Path

import pytest

from belay_core import Device, MaxHistoryLengthError


def _function(folder: Path, name: str, body: str):
    """A host function ``name`` whose source (in a real file, as inspect needs) has ``body``."""
    path = folder / f"{name}_{abs(hash(body))}.py"
    source = f"def {name}():\n    {body}\n"
    path.write_text(source)
    linecache.checkcache(str(path))
    namespace: dict = {}
    exec(compile(source, str(path), "exec"), namespace)
    return namespace[name]


def test_redefined_tasks_never_fill_the_history_and_replay_as_their_latest_body(tree_board, tmp_path, monkeypatch):
    # Once a task redefined 1,001 times came back as its 999th body after a soft reset.
    monkeypatch.setattr(Device, "MAX_CMD_HISTORY_LEN", 10)
    with Device(tree_board) as device:
        for i in range(30):
            first = device.task(_function(tmp_path, "first", f"return {i}"))
            second = device.task(_function(tmp_path, "second", f"return -{i}"))
        device.soft_reset()
        assert (first(), second()) == (29, -29)


def test_a_definition_used_by_a_recorded_call_is_replayed_before_that_call(tree_board, tmp_path):
    with Device(tree_board) as device:
        device.task(_function(tmp_path, "f", "return 1"))

        @device.setup
        def use():
            x = f()

        use()
        f = device.task(_function(tmp_path, "f", "return 2"))
        device.soft_reset()
        assert device("x") == 1
        assert f() == 2


def test_more_recorded_calls_than_the_history_keeps_refuse_to_replay(tree_board, monkeypatch):
    # Never an older state restored silently: the replay says why it stops.
    monkeypatch.setattr(Device, "MAX_CMD_HISTORY_LEN", 10)
    with Device(tree_board) as device:

        @device.setup
        def set_x(value):
            x = value

        for i in range(12):
            set_x(i)
        with pytest.raises(MaxHistoryLengthError, match="more than 10 calls were recorded"):
            device.soft_reset()
        assert device("1 + 1") == 2  # the board and Belay's helpers are back
