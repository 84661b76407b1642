"""``belay fs`` end to end on the emulated boards (unix and wasm keep their files in a host folder)."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from belay_core.cli import cli

SUBCOMMANDS = ("ls", "cat", "get", "put", "cp", "rm", "mkdir", "rmdir", "touch", "sha256sum", "tree", "df")


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
    assert result.exit_code == 2 and "No such directory on the board: '/a'" in result.output  # the missing parent
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


def _files(root) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def test_cp_copies_a_folder_to_the_board_as_cp_does(tree_board, tmp_path, monkeypatch):
    # mpremote's habit: cp -r ./src :lib; a second copy goes into the folder that now exists.
    spec = f"{tree_board}?fs={tmp_path / 'board'}"
    (tmp_path / "src" / "sub").mkdir(parents=True)
    (tmp_path / "src" / "a.py").write_text("a = 1\n")
    (tmp_path / "src" / "sub" / "b.py").write_text("b = 2\n")
    monkeypatch.chdir(tmp_path)
    first = _fs("cp", "-d", spec, "-r", "./src", ":lib")
    assert first.exit_code == 0, first.output
    assert _files(tmp_path / "board") == {"lib/a.py": "a = 1\n", "lib/sub/b.py": "b = 2\n"}
    assert "copied 2 files" in first.stderr
    again = _fs("cp", "-d", spec, "-r", "src", ":lib")
    assert again.exit_code == 0, again.output
    assert "lib/src/sub/b.py" in _files(tmp_path / "board")


def test_cp_copies_from_the_board_and_on_the_board(tree_board, tmp_path, monkeypatch):
    spec = f"{tree_board}?fs={tmp_path / 'board'}"
    (tmp_path / "board" / "data").mkdir(parents=True)
    (tmp_path / "board" / "data.csv").write_text("1,2\n")
    (tmp_path / "board" / "data" / "x.txt").write_text("x")
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    result = _fs("cp", "-d", spec, ":data.csv", ".")
    assert result.exit_code == 0, result.output
    assert (here / "data.csv").read_text() == "1,2\n"
    result = _fs("cp", "-d", spec, ":data.csv", ":/copy.csv")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "board" / "copy.csv").read_text() == "1,2\n"
    result = _fs("cp", "-d", spec, "-r", ":data", ":kept")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "board" / "kept" / "x.txt").read_text() == "x"


def test_cp_says_what_is_wrong(tmp_path, monkeypatch):
    spec = f"emu:unix?fs={tmp_path / 'board'}"
    (tmp_path / "src").mkdir()
    monkeypatch.chdir(tmp_path)
    both_host = _fs("cp", "-d", spec, "a.py", "b.py")
    assert both_host.exit_code == 2
    assert "mark the board's paths with ':'" in both_host.output
    folder = _fs("cp", "-d", spec, "src", ":x")
    assert folder.exit_code == 2
    assert "'src' is a folder: copy it with -r" in folder.output


def test_board_paths_take_mpremote_s_colon(tmp_path):
    spec = f"emu:unix?fs={tmp_path}"
    (tmp_path / "main.py").write_text("print(1)\n")
    result = _fs("cat", "-d", spec, ":main.py")
    assert result.exit_code == 0, result.output
    assert result.output == "print(1)\n"
    listed = _fs("ls", "-d", spec, ":")
    assert "main.py" in listed.output


def test_ls_of_a_file_lists_it(tmp_path):
    (tmp_path / "main.py").write_text("print(1)\n")
    result = _fs("ls", "-d", f"emu:unix?fs={tmp_path}", "/main.py")
    assert result.exit_code == 0, result.output
    assert result.output.split() == ["9", "main.py"]


def test_touch_rmdir_and_sha256sum(tree_board, tmp_path):
    import hashlib

    root = tmp_path / "board"
    spec = f"{tree_board}?fs={root}"
    (root / "empty").mkdir(parents=True)
    (root / "kept.txt").write_text("keep me")
    result = _fs("touch", "-d", spec, ":new.txt", ":kept.txt")
    assert result.exit_code == 0, result.output
    assert (root / "new.txt").read_bytes() == b""
    assert (root / "kept.txt").read_text() == "keep me"
    assert _fs("rmdir", "-d", spec, ":empty").exit_code == 0
    assert not (root / "empty").exists()
    not_dir = _fs("rmdir", "-d", spec, ":kept.txt")
    assert not_dir.exit_code == 2
    assert "Not a directory on the board: 'kept.txt'" in not_dir.output
    summed = _fs("sha256sum", "-d", spec, ":kept.txt")
    assert summed.exit_code == 0, summed.output
    assert summed.output == f"{hashlib.sha256(b'keep me').hexdigest()}  kept.txt\n"


def test_sha256sum_on_the_micro_bit():
    # Its firmware has no hashlib: the host hashes the file's content.
    import hashlib

    write = "with open('a.txt','w') as f: f.write('abc')"
    result = CliRunner().invoke(cli, ["-d", "emu:microbit", "exec", write, "+", "fs", "sha256sum", "a.txt"])
    assert result.exit_code == 0, result.output
    assert f"{hashlib.sha256(b'abc').hexdigest()}  a.txt" in result.output


def test_errors_name_the_missing_parent(tmp_path):
    spec = f"emu:unix?fs={tmp_path}"
    made = _fs("mkdir", "-d", spec, "/nope/deeper")
    assert made.exit_code == 2
    assert "No such directory on the board: '/nope'" in made.output
    touched = _fs("touch", "-d", spec, "/nope/x.txt")
    assert "No such directory on the board: '/nope'" in touched.output


def test_tree_counts_in_good_english(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("")
    result = _fs("tree", "-d", f"emu:unix?fs={tmp_path}", "/")
    assert result.exit_code == 0, result.output
    assert "1 directory, 1 file" in result.output
