"""A noisy line (belay_testing/faulty_line.py between Belay and the board) never gives a wrong byte."""

from __future__ import annotations

import random
import shlex
import sys
from pathlib import Path

import pytest

import belay_testing.faulty_line
from belay_core import Device
from belay_core.errors import ConnectionLost, DeviceTimeoutError, ProtocolError

FAULTY = shlex.quote(belay_testing.faulty_line.__file__)
BOARD = f"{shlex.quote(sys.executable)} -m belay_emulator unix"
DATA = random.Random(3).randbytes(5000)


def _faulty(*options: str) -> str:
    return f"exec:{shlex.quote(sys.executable)} {FAULTY} {' '.join(options)} -- {BOARD}"


def test_a_piece_damaged_on_its_way_to_the_board_fails_the_put(tmp_path: Path):
    # Once the first put reported success with a corrupt copy on the board.
    local = tmp_path / "a.bin"
    local.write_bytes(DATA)
    with Device(_faulty("--change-after", shlex.quote("__belay_V('"), "--skip", "10")) as device:
        with pytest.raises(ProtocolError, match="damaged on the line on its way to the board"):
            device.put(local, "/a.bin")
        device.put(local, "/a.bin")  # the line damaged one piece only
        assert device.files.read_bytes("/a.bin") == DATA


def test_a_result_damaged_on_its_way_to_the_host_fails_the_get(tmp_path: Path):
    local = tmp_path / "a.bin"
    local.write_bytes(DATA)
    with Device(_faulty("--to-host", "--change-after", shlex.quote("(b'"), "--skip", "10")) as device:
        device.put(local, "/a.bin")
        with pytest.raises(ProtocolError, match="damaged on the line"):
            device.get("/a.bin", tmp_path / "back.bin")
        device.get("/a.bin", tmp_path / "back.bin")
        assert (tmp_path / "back.bin").read_bytes() == DATA


def test_a_damaged_value_is_never_returned():
    # 12345 once came back as 13345.
    with Device(_faulty("--to-host", "--change-after", shlex.quote(":1234"), "--skip", "0")) as device:
        with pytest.raises(ProtocolError, match="damaged on the line"):
            device("12345")
        assert device("12345") == 12345


def test_a_byte_lost_on_its_way_to_the_board_fails_the_put(tmp_path: Path):
    # A lost base64 character once surfaced as the board's own "ValueError: incorrect padding".
    local = tmp_path / "a.bin"
    local.write_bytes(DATA)
    with Device(_faulty("--fault", "drop", "--after", shlex.quote("__belay_V('"), "--skip", "10")) as device:
        with pytest.raises(ProtocolError, match="damaged on the line on its way to the board"):
            device.put(local, "/a.bin")
        device.put(local, "/a.bin")
        assert device.files.read_bytes("/a.bin") == DATA


def test_a_byte_lost_on_its_way_to_the_host_fails_the_call():
    with Device(_faulty("--to-host", "--fault", "drop", "--after", shlex.quote(":1234"), "--skip", "0")) as device:
        with pytest.raises(ProtocolError, match="damaged on the line"):
            device("12345")
        assert device("12345") == 12345


def test_a_stalled_line_fails_the_call_with_a_timeout_and_the_board_stays_usable():
    stall = _faulty("--to-host", "--fault", "delay", "--delay", "3", "--after", shlex.quote(":1234"), "--skip", "0")
    with Device(stall, timeout=1) as device:
        with pytest.raises(DeviceTimeoutError):
            device("12345")
        assert device("12345") == 12345


def test_a_line_cut_during_a_get_keeps_the_host_file_as_it_was(tmp_path: Path):
    # The host file was once truncated to the bytes that arrived before the cut.
    source, local = tmp_path / "a.bin", tmp_path / "local.bin"
    source.write_bytes(DATA)
    local.write_bytes(b"the copy from yesterday")
    with Device(_faulty("--to-host", "--fault", "cut", "--after", shlex.quote("(b'"), "--skip", "10")) as device:
        device.put(source, "/a.bin")
        with pytest.raises(ConnectionLost):
            device.get("/a.bin", local)
    assert local.read_bytes() == b"the copy from yesterday"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "local.bin"]


def test_a_finished_part_file_never_removes_a_later_get_s(tmp_path: Path):
    # A finished get's part file, collected late, once unlinked the part a later get was writing.
    import gc

    from belay_core.files import _PartFile

    target = tmp_path / "a.bin"
    first = _PartFile(target)
    first.write(b"first")
    first.close()
    second = _PartFile(target)
    second.write(b"second")
    del first
    gc.collect()
    second.close()
    assert target.read_bytes() == b"second"
