"""Pacing of classic raw-REPL input (firmware without raw-paste): the setting, where it applies, where not.

The engine's writes are recorded by a fake line that answers like a classic raw REPL, and its waits
by a stand-in for `time` in `belay_core.repl`; nothing here measures time. The micro:bit firmware on
qemu's own pseudo-terminal (``plugins/belay-serial/tests/test_microbit_pty.py``) shows what pacing
is for.
"""

from __future__ import annotations

import time
import types
from typing import Optional

import pytest

import belay_core.repl as repl_module
from belay_core import Device, UsageError
from belay_core.repl import CLASSIC_PACING, RAW_BANNER, RawRepl, resolve_pacing
from belay_core.transport import Transport
from belay_emulator.transport import EmulatorTransport


class ClassicLine(Transport):
    """A line to firmware that knows the raw REPL but not raw-paste; it records each write."""

    def __init__(self) -> None:
        super().__init__("fake:classic")
        self.writes: list[bytes] = []
        self.pending = bytearray()

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        for byte in data:
            if byte == 1:  # Ctrl-A, also the one in the raw-paste request: the banner again
                self.pending += RAW_BANNER
            elif byte == 4:  # end of the code
                self.pending += b"OK\x04\x04>"

    def read(self, size: int, timeout: Optional[float]) -> bytes:
        data = bytes(self.pending[:size])
        del self.pending[:size]
        return data


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits the engine asks for (recorded, not slept)."""
    asked: list[float] = []
    monkeypatch.setattr(repl_module, "time", types.SimpleNamespace(monotonic=time.monotonic, sleep=asked.append))
    return asked


def _classic_engine(pacing: repl_module.Pacing = None) -> tuple[RawRepl, ClassicLine]:
    line = ClassicLine()
    engine = RawRepl(line, pacing=pacing)
    engine.enter()
    assert engine.raw_paste is False
    line.writes.clear()
    return engine, line


def test_default_pacing_is_the_documented_one():
    assert resolve_pacing(None) == CLASSIC_PACING
    assert RawRepl(ClassicLine()).pacing == CLASSIC_PACING
    size, wait = CLASSIC_PACING
    assert 0 < size < 64 and wait > 0  # pieces fit the micro:bit's 64-byte receive buffer


def test_pacing_settings():
    assert resolve_pacing(False) is None
    assert resolve_pacing((32, 0.005)) == (32, 0.005)
    assert resolve_pacing([8, 0]) == (8, 0.0)
    for bad in (
        (0, 0.01),
        (-1, 0.01),
        (16, -0.001),
        (16, float("inf")),
        (16, float("nan")),
        (16.5, 0.01),
        (True, 0.01),
        (16, "1"),
        (16,),
        "fast",
        16,
    ):
        with pytest.raises(UsageError, match="pacing"):
            resolve_pacing(bad)
    with pytest.raises(ValueError):  # UsageError is a ValueError too
        RawRepl(ClassicLine(), pacing=(0, 1))


def test_classic_code_goes_in_pieces_with_waits_between(waits):
    engine, line = _classic_engine((16, 0.25))
    code = b"x = 1\n" + b"# padding\n" * 10  # 106 bytes, and the closing Ctrl-D
    assert engine.exec(code, timeout=5) == b""
    assert b"".join(line.writes) == code + b"\x04"
    assert [len(w) for w in line.writes] == [16] * 6 + [11]
    assert waits == [0.25] * 6  # between pieces, none before the first or after the last


def test_short_classic_code_is_one_write_without_waiting(waits):
    engine, line = _classic_engine((64, 0.25))
    engine.exec(b"print(1)", timeout=5)
    assert line.writes == [b"print(1)\x04"]
    assert waits == []


def test_pacing_off_writes_classic_code_in_one_piece(waits):
    engine, line = _classic_engine(False)
    code = b"y = 2  # " + b"-" * 500
    engine.exec(code, timeout=5)
    assert line.writes == [code + b"\x04"]
    assert waits == []


def test_raw_paste_is_never_paced(waits):
    transport = EmulatorTransport("emu:unix")
    transport.open()
    try:
        engine = RawRepl(transport, pacing=(16, 0.25))
        engine.enter()
        assert engine.raw_paste is True
        code = "total = 0\n" + "".join(f"total += {i}  # padding padding\n" for i in range(100)) + "print(total)"
        out: list[bytes] = []
        assert engine.exec(code.encode(), timeout=30, on_stdout=out.append) == b""
        assert b"".join(out) == f"{sum(range(100))}\r\n".encode()
        assert waits == []
    finally:
        transport.close()


def test_device_pacing_reaches_the_engine_and_survives_a_reconnect():
    with Device("emu:unix", timeout=30, pacing=(24, 0.002)) as device:
        assert device.session.engine.pacing == (24, 0.002)
        device.reconnect()
        assert device.session.engine.pacing == (24, 0.002)
        assert device("1 + 1") == 2
    with Device("emu:unix", timeout=30, pacing=False) as device:
        assert device.session.engine.pacing is None
    with Device("emu:unix", timeout=30) as device:
        assert device.session.engine.pacing == CLASSIC_PACING


def test_bad_device_pacing_fails_before_connecting():
    with pytest.raises(UsageError, match="pacing"):
        Device("emu:unix", pacing=(0, 0.01))
