"""A noisy line (belay_testing/faulty_line.py between Belay and the board) never gives a wrong byte."""

from __future__ import annotations

import random
import shlex
import sys
from pathlib import Path

import pytest

import belay_testing.faulty_line
from belay_core import Device
from belay_core.errors import ProtocolError

FAULTY = shlex.quote(belay_testing.faulty_line.__file__)
BOARD = f"{shlex.quote(sys.executable)} -m belay_emulator unix"
DATA = random.Random(3).randbytes(5000)


def _faulty(*options: str) -> str:
    return f"exec:{shlex.quote(sys.executable)} {FAULTY} {' '.join(options)} -- {BOARD}"


def test_a_piece_damaged_on_its_way_to_the_board_fails_the_put(tmp_path: Path):
    # Once the first put reported success with a corrupt copy on the board.
    local = tmp_path / "a.bin"
    local.write_bytes(DATA)
    with Device(_faulty("--change-after", shlex.quote("__belay_V(__belay_D('"), "--skip", "10")) as device:
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
