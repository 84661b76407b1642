"""How board commands find and keep their board: ``-d`` anywhere, ``+`` chains, ``--no-soft-reset``, ``run`` follows."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from belay_core.cli import cli


def _belay(*args: str) -> object:
    return CliRunner().invoke(cli, list(args))


def test_commands_chained_with_plus_share_one_connection():
    # mpremote's habit: each emu: call was a new, empty board, so x was gone by the second command.
    result = _belay("-d", "emu:", "exec", "x = 6 * 7", "+", "exec", "print(x)", "+", "exec", "x + 1")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["42", "43"]


def test_the_readme_walk_through_runs_on_one_emulated_board(tmp_path: Path):
    (tmp_path / "main.py").write_text("print('hello from main')\n")
    result = _belay("-d", "emu:", "sync", str(tmp_path), "--dst", "/app", "+", "fs", "ls", "/app")
    assert result.exit_code == 0, result.output
    assert "main.py" in result.output


def test_a_chain_stops_at_the_first_failing_command():
    result = _belay("-d", "emu:", "exec", "1 / 0", "+", "exec", "print('not reached')")
    assert result.exit_code == 1
    assert "ZeroDivisionError" in result.output
    assert "not reached" not in result.output


def test_a_plus_with_nothing_on_one_side_is_a_usage_error():
    result = _belay("-d", "emu:", "exec", "1", "+")
    assert result.exit_code == 2
    assert "give a command on each side of '+'" in result.output


def test_a_command_s_own_device_wins_over_belay_s(tmp_path: Path):
    (tmp_path / "here.txt").write_text("x")
    result = _belay("-d", "emu:", "fs", "ls", "-d", f"emu:unix?fs={tmp_path}", "/")
    assert result.exit_code == 0, result.output
    assert "here.txt" in result.output


@pytest.mark.parametrize("where", ["group", "command", "belay"])
def test_file_commands_take_the_device_before_or_after_the_command(tmp_path: Path, where: str):
    # belay fs ls -d SPEC / failed: -d was only the fs group's.
    (tmp_path / "board.txt").write_text("on the board")
    spec = f"emu:unix?fs={tmp_path}"
    args = {
        "group": ["fs", "-d", spec, "cat", "/board.txt"],
        "command": ["fs", "cat", "-d", spec, "/board.txt"],
        "belay": ["-d", spec, "fs", "cat", "/board.txt"],
    }[where]
    result = _belay(*args)
    assert result.exit_code == 0, result.output
    assert result.output == "on the board"


def test_belay_device_from_the_environment_gives_way_to_belay_dash_d(tmp_path: Path, monkeypatch):
    (tmp_path / "mark.txt").write_text("x")
    monkeypatch.setenv("BELAY_DEVICE", "emu:")
    result = _belay("-d", f"emu:unix?fs={tmp_path}", "fs", "ls", "/")
    assert result.exit_code == 0, result.output
    assert "mark.txt" in result.output


def test_no_soft_reset_keeps_the_board_s_state(pty_board):
    board = pty_board("unix")
    assert _belay("exec", "-d", board.path, "kept = 5").exit_code == 0
    kept = _belay("exec", "-d", board.path, "--no-soft-reset", "kept")
    assert kept.exit_code == 0, kept.output
    assert kept.output.strip() == "5"
    also = _belay("--no-soft-reset", "-d", board.path, "exec", "kept * 2")
    assert also.output.strip() == "10"
    reset = _belay("exec", "-d", board.path, "kept")  # connecting soft-resets by default
    assert reset.exit_code == 1
    assert "NameError" in reset.output


def test_run_follows_its_program_past_the_call_timeout(tmp_path: Path, monkeypatch):
    # A main loop was killed after the 60 s call timeout; mpremote follows the program until it ends.
    monkeypatch.setattr("belay_core.device.DEFAULT_TIMEOUT", 0.5)
    program = tmp_path / "main.py"
    program.write_text("import time\ntime.sleep(1.5)\nprint('still followed')\n")
    result = _belay("run", "-d", "emu:", str(program))
    assert result.exit_code == 0, result.output
    assert "still followed" in result.output


def test_run_with_a_timeout_still_stops_the_program(tmp_path: Path):
    program = tmp_path / "main.py"
    program.write_text("import time\ntime.sleep(30)\n")
    result = _belay("run", "-d", "emu:", "--timeout", "0.5", str(program))
    assert result.exit_code == 2
    assert "did not finish within 0.5 s" in result.output


def test_other_commands_keep_the_call_timeout(monkeypatch):
    monkeypatch.setattr("belay_core.device.DEFAULT_TIMEOUT", 0.5)
    result = _belay("exec", "-d", "emu:", "import time; time.sleep(3)")
    assert result.exit_code == 2
    assert "did not finish within 0.5 s" in result.output


def test_run_follows_a_main_loop_until_ctrl_c(tmp_path: Path):
    import shutil
    import signal
    import subprocess

    program = tmp_path / "main.py"
    program.write_text("import time\nprint('looping')\nwhile True:\n    time.sleep(0.05)\n")
    belay = shutil.which("belay")
    assert belay is not None
    process = subprocess.Popen(
        [belay, "run", "-d", "emu:", str(program)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "looping\n"
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Aborted." in err


def test_timeout_bounds_connecting_to_a_silent_board():
    # A 3 s timeout once still waited 10 s for a board that never answers.
    result = _belay("exec", "-d", "exec:sleep 100", "--timeout", "1", "1")
    assert result.exit_code == 2
    assert "did not answer like a MicroPython raw REPL within 1 s" in result.output
