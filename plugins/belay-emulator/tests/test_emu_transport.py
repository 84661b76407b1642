"""The emu: transport: spec parsing, board choice, a kept filesystem, the console script."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from belay_core import Device, DeviceSpecError
from belay_emulator import boards
from belay_emulator.transport import EmulatorTransport, parse_spec


def test_parse_spec():
    assert parse_spec("emu:") == ("", None)
    assert parse_spec("emu:wasm") == ("wasm", None)
    assert parse_spec("emu:unix?fs=/tmp/b") == ("unix", Path("/tmp/b"))


@pytest.mark.parametrize(
    ("spec", "message"),
    [("emu:esp32", "unknown emulated board 'esp32'"), ("emu:unix?speed=1", "unknown option"), ("emu:unix?fs", "fs")],
)
def test_bad_specs_are_explained(spec, message):
    with pytest.raises(DeviceSpecError, match=message):
        EmulatorTransport(spec)


def test_bare_emu_picks_the_best_board_here():
    assert boards.best() == "unix"
    with Device("emu:") as device:
        assert device.implementation.platform == "linux"


def test_fs_folder_keeps_files_between_boards(tmp_path: Path):
    with Device(f"emu:unix?fs={tmp_path}") as device:
        device("f = open('kept.txt', 'w'); f.write('still here'); f.close()")
    assert (tmp_path / "kept.txt").read_text() == "still here"
    with Device("emu:unix", fs=str(tmp_path)) as device:
        assert device("open('kept.txt').read()") == "still here"


def test_wasm_fs_folder(tmp_path: Path):
    with Device(f"emu:wasm?fs={tmp_path}") as device:
        device("f = open('w.txt', 'w'); f.write('wasm'); f.close()")
    assert (tmp_path / "w.txt").read_text() == "wasm"


def test_console_script_serves_a_board_for_exec():
    script = shutil.which("belay-emulator", path=str(Path(sys.executable).parent))
    assert script is not None
    with Device(f"exec:{script} wasm") as device:
        assert device("sys.platform") == "webassembly"


def test_setup_reports_every_board():
    result = subprocess.run(
        [sys.executable, "-m", "belay_emulator", "setup", "--strict"], capture_output=True, text=True, check=True
    )
    for name in boards.BOARDS:
        assert f"{name}" in result.stderr
    assert "unavailable" not in result.stderr


def test_unknown_board_on_the_command_line():
    result = subprocess.run([sys.executable, "-m", "belay_emulator", "esp32"], capture_output=True, text=True)
    assert result.returncode != 0
    assert "esp32" in result.stderr
