"""``belay sync`` at a terminal: it asks before deleting at /, ``--yes``, ``--no-delete``, bytes in its summary."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from belay_core.cli import cli


def _at_a_terminal(args: list[str], answer: bytes | None) -> tuple[int, str]:
    """Run ``belay ARGS`` with a pseudo-terminal as its stdin, stdout and stderr; type ``answer`` at the prompt."""
    master, slave = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "belay_core.cli", *args], stdin=slave, stdout=slave, stderr=slave, start_new_session=True
    )
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    seen += os.read(master, 4096)
                except OSError:
                    break
                if answer is not None and b"Remove them? [y/N]" in seen:
                    os.write(master, answer)
                    answer = None
        process.wait(30)
        while select.select([master], [], [], 0.1)[0]:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            seen += data
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    return process.returncode, seen.decode(errors="replace").replace("\r\n", "\n")


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, str]:
    """A folder to sync (main.py) and a board holding a file it does not have (old.txt) and boot.py."""
    src, board = tmp_path / "src", tmp_path / "board"
    src.mkdir()
    board.mkdir()
    (src / "main.py").write_text("print('hello')\n")
    (board / "old.txt").write_text("old")
    (board / "boot.py").write_text("# kept\n")
    return src, f"emu:unix?fs={board}"


def test_a_sync_to_the_root_lists_what_it_would_delete_and_asks(project):
    src, spec = project
    code, output = _at_a_terminal(["sync", "-d", spec, str(src)], b"n\r")
    assert code == 1, output
    assert "would remove 1 path from the board" in output and "/old.txt" in output
    assert "Cancelled: nothing on the board was changed." in output
    board = Path(spec.split("fs=")[1])
    assert (board / "old.txt").exists()
    assert not (board / "main.py").exists()  # nothing at all was changed


def test_agreeing_deletes(project):
    src, spec = project
    code, output = _at_a_terminal(["sync", "-d", spec, str(src)], b"y\r")
    assert code == 0, output
    board = Path(spec.split("fs=")[1])
    assert not (board / "old.txt").exists()
    assert (board / "main.py").exists() and (board / "boot.py").exists()


def test_yes_does_not_ask(project):
    src, spec = project
    code, output = _at_a_terminal(["sync", "-d", spec, "--yes", str(src)], None)
    assert code == 0, output
    assert "Remove them?" not in output
    assert not (Path(spec.split("fs=")[1]) / "old.txt").exists()


def test_no_delete_never_deletes(project):
    src, spec = project
    result = CliRunner().invoke(cli, ["sync", "-d", spec, "--no-delete", str(src)])
    assert result.exit_code == 0, result.output
    board = Path(spec.split("fs=")[1])
    assert (board / "old.txt").exists() and (board / "main.py").exists()
    assert "1 uploaded (15 B), 0 unchanged, 0 deleted" in result.stderr


def test_without_a_terminal_sync_does_not_ask(project):
    # Scripts and CI keep working: only a person at a terminal is asked.
    src, spec = project
    result = CliRunner().invoke(cli, ["sync", "-d", spec, str(src)])
    assert result.exit_code == 0, result.output
    assert not (Path(spec.split("fs=")[1]) / "old.txt").exists()


def test_dry_run_speaks_good_english(project):
    src, spec = project
    result = CliRunner().invoke(cli, ["sync", "-d", spec, "--dry-run", str(src)])
    assert result.exit_code == 0, result.output
    assert "1 would be uploaded (15 B), 0 unchanged, 1 would be deleted" in result.stderr


def test_byte_progress_reaches_every_byte(tmp_path: Path):
    from belay_core import Device

    (tmp_path / "a.txt").write_bytes(b"a" * 5000)
    (tmp_path / "b.txt").write_bytes(b"b" * 300)
    seen: dict[str, int] = {}
    totals: list[int] = []
    with Device("emu:unix") as device:
        plan = device.sync(
            tmp_path,
            dst="/app",
            confirm=lambda plan: totals.append(plan.upload_bytes) or True,
            byte_progress=lambda path, done, size: seen.__setitem__(path, done),
        )
    assert totals == [5300] and plan.upload_bytes == 5300
    assert seen == {"/app/a.txt": 5000, "/app/b.txt": 300}


def test_a_confirm_that_says_no_changes_nothing(tmp_path: Path):
    from belay_core import Device
    from belay_core.sync import SyncCancelled

    (tmp_path / "a.txt").write_text("a")
    with Device("emu:unix") as device:
        with pytest.raises(SyncCancelled) as cancelled:
            device.sync(tmp_path, dst="/app", confirm=lambda plan: False)
        assert cancelled.value.plan.upload == ["/app/a.txt"]
        assert not device.files.exists("/app")
