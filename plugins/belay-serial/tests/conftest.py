"""Real serial lines for the tests: an emulated board behind a pseudo-terminal, and fake USB enumeration.

A board program (``python -m belay_emulator BOARD``) gets the master side of ``os.openpty()`` as its
stdin and stdout; the slave side is a real tty device (``/dev/pts/N``) that Belay opens like a USB
serial port. Only USB enumeration is faked: ``serial.tools.list_ports.comports`` returns made-up
``ListPortInfo`` objects.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tty
from collections.abc import Iterator
from typing import Any, Callable, Optional

import pytest
from attrs import define


@define
class PtyBoard:
    """An emulated board on the master side of a pseudo-terminal; ``path`` is the slave's device path."""

    board: str
    path: str
    process: subprocess.Popen
    slave: Optional[int]

    @classmethod
    def start(cls, board: str = "unix") -> PtyBoard:
        master, slave = os.openpty()
        tty.setraw(slave)
        path = os.ttyname(slave)
        process = subprocess.Popen(
            [sys.executable, "-m", "belay_emulator", board],
            stdin=master,
            stdout=master,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        os.close(master)  # the board holds the only master: when it dies, the line hangs up
        return cls(board, path, process, slave)

    def unplug(self) -> None:
        """Kill the board (and its children): the master side closes, as when a USB board is pulled."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except OSError:
                self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        self.unplug()
        if self.slave is not None:
            os.close(self.slave)
            self.slave = None


@pytest.fixture
def pty_board() -> Iterator[Callable[..., PtyBoard]]:
    """Start boards on fresh pseudo-terminals: ``pty_board("unix")``; all are stopped after the test."""
    started: list[PtyBoard] = []

    def start(board: str = "unix") -> PtyBoard:
        started.append(PtyBoard.start(board))
        return started[-1]

    yield start
    for board in started:
        board.stop()


def _fake_port(device: str, vid: Optional[int] = None, pid: Optional[int] = None, **fields: Any) -> Any:
    """A pyserial ``ListPortInfo`` as the operating system would list it."""
    from serial.tools.list_ports_common import ListPortInfo

    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid = vid, pid
    for name, value in fields.items():
        setattr(info, name, value)
    return info


@pytest.fixture
def fake_port() -> Callable[..., Any]:
    """Make a fake ``ListPortInfo``: ``fake_port("/dev/ttyACM0", 0x2E8A, 0x0005, serial_number="E661")``."""
    return _fake_port


@pytest.fixture
def usb_ports(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Set the ports ``serial.tools.list_ports.comports()`` reports: ``usb_ports(fake_port(...), ...)``."""
    import serial.tools.list_ports

    def set_ports(*ports: Any) -> None:
        monkeypatch.setattr(serial.tools.list_ports, "comports", lambda include_links=False: list(ports))

    set_ports()
    return set_ports
