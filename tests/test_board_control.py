"""Board control on real firmware: hard and soft reset, the real-time clock, editing a board file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from belay_core import Device
from belay_core.cli import cli
from belay_core.errors import FeatureUnavailableError


def _belay(*args: str) -> object:
    return CliRunner().invoke(cli, list(args))


def test_reset_starts_an_emulated_board_afresh_and_keeps_the_device_usable():
    with Device("emu:unix") as device:

        @device.setup
        def kept():
            marker = 1  # noqa: F841 (a board global, restored by the replay)

        kept()
        device("lost = 2")
        device.hard_reset()
        assert device("marker") == 1
        with pytest.raises(Exception, match="NameError"):
            device("lost")


def test_reset_of_a_serial_board_runs_machine_reset(microbit_pty):
    # The micro:bit firmware on qemu's own pty: machine.reset() reboots the emulated chip.
    with Device(microbit_pty, timeout=20) as device:
        device("x = 5")
        device.hard_reset()
        with pytest.raises(Exception, match="NameError"):
            device("x")
        assert device("1 + 1") == 2


def test_reset_without_machine_reset_says_so(pty_board):
    # The unix port has no machine.reset(), and Belay cannot restart a board on a serial line.
    with Device(pty_board("unix").path) as device:
        with pytest.raises(FeatureUnavailableError, match=r"no machine.reset\(\)"):
            device.hard_reset()
        assert device("1 + 1") == 2


@pytest.mark.parametrize("command", ["reset", "soft-reset"])
def test_reset_commands_in_a_chain_lose_the_board_s_ram(command: str):
    result = _belay("-d", "emu:", "exec", "x = 1", "+", command, "+", "exec", "x")
    assert result.exit_code == 1
    assert "NameError" in result.output
    assert ("Reset emu:." if command == "reset" else "Soft-reset emu:.") in result.stderr


def test_rtc_reads_the_board_s_clock():
    result = _belay("rtc", "-d", "emu:unix")
    assert result.exit_code == 0, result.output
    shown = datetime.fromisoformat(result.stdout.strip())
    assert abs((shown - datetime.now()).total_seconds()) < 3600  # the board's localtime is the host's


def test_rtc_set_on_a_board_without_an_rtc_says_so():
    result = _belay("rtc", "-d", "emu:unix", "--set")
    assert result.exit_code == 2
    assert "has no machine.RTC to set" in result.output


def test_rtc_set_with_a_bad_date_is_a_usage_error():
    result = _belay("rtc", "-d", "emu:unix", "--set", "tomorrow")
    assert result.exit_code == 2
    assert "is not a date and time" in result.output


STUB_RTC = """
import sys
class _Machine:
    pass
class RTC:
    value = (2000, 1, 1, 5, 0, 0, 0, 0)
    def datetime(self, value=None):
        if value is None:
            return RTC.value
        RTC.value = tuple(value)
sys.modules['machine'] = _Machine()
sys.modules['machine'].RTC = RTC
"""
"""A board-side stand-in for the RTC peripheral, which no emulated board has (the one part faked)."""


def test_set_rtc_gives_the_rtc_mpremote_s_tuple():
    with Device("emu:unix") as device:
        device(STUB_RTC)
        assert device.set_rtc(datetime(2030, 1, 2, 3, 4, 5, 678)) == datetime(2030, 1, 2, 3, 4, 5)
        assert device("RTC.value") == (2030, 1, 2, 2, 3, 4, 5, 0)  # weekday 2: a Wednesday, Monday is 0
        assert device.rtc() == datetime(2030, 1, 2, 3, 4, 5)


def test_edit_writes_a_changed_file_back(tmp_path: Path):
    (tmp_path / "main.py").write_text("print('old')\n")
    result = _belay("edit", "-d", f"emu:unix?fs={tmp_path}", "--editor", "sed -i s/old/new/", ":main.py")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "main.py").read_text() == "print('new')\n"
    assert "main.py: written (13 bytes)" in result.stderr


def test_edit_leaves_an_unchanged_file_alone(tmp_path: Path):
    (tmp_path / "main.py").write_text("print('same')\n")
    result = _belay("edit", "-d", f"emu:unix?fs={tmp_path}", "--editor", "true", "main.py")
    assert result.exit_code == 0, result.output
    assert "main.py: unchanged" in result.stderr


def test_edit_makes_a_new_file(tmp_path: Path):
    editor = 'sh -c \'printf "x = 1\\n" > "$0"\''
    result = _belay("edit", "-d", f"emu:unix?fs={tmp_path}", "--editor", editor, "/new.py")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "new.py").read_text() == "x = 1\n"
