"""Real serial lines for the tests: an emulated board behind a pseudo-terminal, and fake USB enumeration.

A board program (``python -m belay_emulator BOARD``) gets the master side of ``os.openpty()`` as its
stdin and stdout; the slave side is a real tty device (``/dev/pts/N``) that Belay opens like a USB
serial port. `microbit_pty` is the micro:bit firmware on qemu's own ``-serial pty``, with no relay of
ours pacing the line. Only USB enumeration is faked: ``serial.tools.list_ports.comports`` returns
made-up ``ListPortInfo`` objects.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tty
from collections.abc import Iterator
from pathlib import Path
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


_PTY_PATH = re.compile(rb"(/dev/pts/[0-9]+)")
QEMU_START = 30.0
"""Seconds qemu gets to name the pseudo-terminal it created (it takes well under one)."""


def _deathsig(parent: int) -> Optional[Callable[[], None]]:
    """A ``preexec_fn`` that has the kernel kill qemu when pytest dies without running the fixture's teardown."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None).prctl  # looked up before the fork: the child only calls it

    def preexec() -> None:
        prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:
            os._exit(1)

    return preexec


@pytest.fixture
def microbit_pty(tmp_path: Path) -> Iterator[str]:
    """The micro:bit firmware in ``qemu-system-arm -M microbit -serial pty``; yields the ``/dev/pts/N`` qemu made.

    Nothing of ours sits between Belay and qemu: the firmware's 64-byte UART receive buffer sees the
    host's bytes as fast as qemu hands them over, as on a real board's line. qemu is killed after the
    test, whatever happens. A missing qemu or firmware fails the test (``belay-emulator setup --apt``
    installs them).
    """
    from belay_emulator.boards import microbit

    reason = microbit.unavailable()
    if reason is not None:
        pytest.fail(f"the micro:bit firmware cannot run here: {reason}")
    log = tmp_path / "qemu.log"
    command = [
        shutil.which("qemu-system-arm") or "qemu-system-arm",
        "-M",
        "microbit",
        "-device",
        f"loader,file={microbit.FIRMWARE}",
        "-display",
        "none",
        "-monitor",
        "none",
        "-serial",
        "pty",
    ]
    with open(log, "wb") as out:
        qemu = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_deathsig(os.getpid()),
        )
    try:
        deadline = time.monotonic() + QEMU_START
        while True:
            found = _PTY_PATH.search(log.read_bytes())
            if found:
                break
            if qemu.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"qemu did not name its pseudo-terminal (exit code {qemu.poll()}): {log.read_text()!r}")
            time.sleep(0.01)
        yield found.group(1).decode()
    finally:
        if qemu.poll() is None:
            try:
                os.killpg(qemu.pid, signal.SIGKILL)
            except OSError:
                qemu.kill()
        qemu.wait(10)


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
