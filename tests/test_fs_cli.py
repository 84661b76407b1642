"""``belay fs`` end to end on the emulated boards (unix and wasm keep their files in a host folder)."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from belay_core.cli import cli

SUBCOMMANDS = ("ls", "cat", "get", "put", "rm", "mkdir", "tree", "df")


@pytest.fixture
def spec(board, tmp_path):
    """The board's spec; unix and wasm keep their file system in a host folder across commands."""
    if board == "emu:microbit":
        return board
    return f"{board}?fs={tmp_path / 'board'}"


def _fs(*args: str):
    return CliRunner().invoke(cli, ["fs", *args])


def test_help_of_every_subcommand():
    result = _fs("--help")
    assert result.exit_code == 0
    for name in SUBCOMMANDS:
        assert name in result.output
        sub = _fs(name, "--help")
        assert sub.exit_code == 0, (name, sub.output)
        assert "Usage:" in sub.output


def test_no_device_is_a_usage_error(monkeypatch):
    monkeypatch.delenv("BELAY_DEVICE", raising=False)
    result = _fs("ls")
    assert result.exit_code == 2
    assert "-d/--device SPEC" in result.output


def test_put_ls_cat_get_tree_rm(tree_board, tmp_path):
    spec = f"{tree_board}?fs={tmp_path / 'board'}"  # the files stay between commands
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "hello.txt").write_text("hello board\n")
    data = os.urandom(30 * 1024)
    (tree / "sub" / "data.bin").write_bytes(data)

    result = _fs("-d", spec, "put", str(tree), "/app")
    assert result.exit_code == 0, result.output
    assert "put 2 files" in result.output

    result = _fs("-d", spec, "ls", "/app")
    assert result.exit_code == 0, result.output
    assert "hello.txt" in result.output and "12" in result.output and "sub/" in result.output

    result = _fs("-d", spec, "cat", "/app/hello.txt")
    assert result.exit_code == 0, result.output
    assert result.output == "hello board\n"

    result = _fs("-d", spec, "tree", "/")
    assert result.exit_code == 0, result.output
    assert "app/" in result.output and "data.bin" in result.output and "2 directories, 2 files" in result.output

    back = tmp_path / "back"
    result = _fs("-d", spec, "get", "/app", str(back))
    assert result.exit_code == 0, result.output
    assert (back / "sub" / "data.bin").read_bytes() == data
    assert (back / "hello.txt").read_text() == "hello board\n"

    result = _fs("-d", spec, "rm", "/app")
    assert result.exit_code == 2
    assert "/app" in result.output and "Traceback" not in result.output

    result = _fs("-d", spec, "rm", "-r", "/app")
    assert result.exit_code == 0, result.output
    assert "app" not in _fs("-d", spec, "ls", "/").output


def test_mkdir_and_df(spec):
    if spec == "emu:microbit":
        result = _fs("-d", spec, "mkdir", "lib")
        assert result.exit_code == 2
        assert "flat file system" in result.output and "microbit" in result.output
        result = _fs("-d", spec, "df")
        assert result.exit_code == 2 and "statvfs" in result.output
        return
    result = _fs("-d", spec, "mkdir", "/a/b")
    assert result.exit_code == 2 and "'/a/b'" in result.output
    assert _fs("-d", spec, "mkdir", "-p", "/a/b").exit_code == 0
    assert _fs("-d", spec, "mkdir", "-p", "/a/b").exit_code == 0
    assert "b/" in _fs("-d", spec, "ls", "/a").output
    result = _fs("-d", spec, "df")
    assert result.exit_code == 0, result.output
    assert "free" in result.output and "use%" in result.output


def test_missing_paths_exit_2_without_stack_trace(spec, tmp_path):
    for args in (("cat", "/nope.txt"), ("get", "/nope.txt", str(tmp_path / "x")), ("rm", "/nope.txt"), ("ls", "/nope")):
        result = _fs("-d", spec, *args)
        assert result.exit_code == 2, (args, result.output)
        assert "No such file or directory on the board" in result.output and "nope" in result.output
        assert "Traceback" not in result.output
    result = _fs("-d", spec, "put", str(tmp_path / "absent.txt"))
    assert result.exit_code == 2
    assert "absent.txt" in result.output


def test_microbit_put_and_limits(tmp_path):
    board = "emu:microbit"
    local = tmp_path / "small.bin"
    local.write_bytes(bytes(range(256)) * 2)
    result = _fs("-d", board, "put", str(local))
    assert result.exit_code == 0, result.output
    assert "put 1 file" in result.output
    folder = tmp_path / "folder"
    folder.mkdir()
    result = _fs("-d", board, "put", str(folder))
    assert result.exit_code == 2 and "flat file system" in result.output
    result = _fs("-d", board, "ls")
    assert result.exit_code == 0, result.output
