"""Boards the tests talk to: raw bytes to a board program, boards on pseudo-terminals, qemu's own pty.

`BoardIO` speaks raw bytes to ``python -m belay_emulator BOARD``. `PtyBoard` puts a board program on
the master side of ``os.openpty()``: the slave side is a real tty device (``/dev/pts/N``) that Belay
opens like a USB serial port. `microbit_on_qemu_pty` runs the micro:bit firmware on qemu's own
``-serial pty``, with no relay of ours pacing the line. Only USB enumeration is faked:
`fake_port_info` makes the ``ListPortInfo`` objects ``serial.tools.list_ports.comports`` returns.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import select
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

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"


class BoardIO:
    """A ``belay-emulator BOARD`` process spoken to in raw bytes."""

    def __init__(self, board: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "belay_emulator", board, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
            start_new_session=True,
        )
        self.buffer = b""

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def read_until(self, marker: bytes, timeout: float = 10.0) -> bytes:
        """Return everything up to and including ``marker``; fail the test on timeout or EOF."""
        self._fill(lambda: marker in self.buffer, repr(marker), timeout)
        index = self.buffer.index(marker) + len(marker)
        out, self.buffer = self.buffer[:index], self.buffer[index:]
        return out

    def read_exactly(self, count: int, timeout: float = 10.0) -> bytes:
        """Return the next ``count`` bytes; fail the test on timeout or EOF."""
        self._fill(lambda: len(self.buffer) >= count, f"{count} bytes", timeout)
        out, self.buffer = self.buffer[:count], self.buffer[count:]
        return out

    def _fill(self, enough: Callable[[], bool], what: str, timeout: float) -> None:
        """Read the board's output into the buffer until ``enough()``; fail the test on timeout or EOF."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while not enough():
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"timeout waiting for {what}; got {self.buffer[-300:]!r}")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    err = self.proc.stderr.read() if self.proc.stderr else b""
                    pytest.fail(f"board exited waiting for {what}; got {self.buffer[-300:]!r}; stderr {err!r}")
                self.buffer += chunk

    def enter_raw(self) -> None:
        self.write(b"\r\x03\x03\x01")
        self.read_until(RAW_BANNER)

    def exec_raw(self, code: bytes, timeout: float = 10.0) -> tuple[bytes, bytes]:
        """Run ``code`` in the classic raw REPL; return (stdout, stderr)."""
        self.write(code + b"\x04")
        self.read_until(b"OK", timeout)
        out = self.read_until(b"\x04", timeout)[:-1]
        err = self.read_until(b"\x04", timeout)[:-1]
        self.read_until(b">", timeout)
        return out, err

    def raw_paste(self, code: bytes, timeout: float = 10.0) -> tuple[bytes, bytes]:
        """Run ``code`` in raw-paste mode as pyboard.py does, never sending beyond the board's window.

        A board that never grants a window the host needs makes this fail on timeout; it never hangs.
        Return (stdout, stderr).
        """
        self.write(b"\x05A\x01")
        assert self.read_exactly(2, timeout) == b"R\x01"
        window = int.from_bytes(self.read_exactly(2, timeout), "little")
        assert window == 128
        remain = window
        sent = 0
        fd = self.proc.stdout.fileno() if self.proc.stdout else -1
        while sent < len(code):
            while remain == 0 or self.buffer or select.select([fd], [], [], 0)[0]:
                byte = self.read_exactly(1, timeout)
                assert byte == b"\x01", f"unexpected {byte!r} during raw-paste"
                remain += window
            chunk = code[sent : sent + remain]
            self.write(chunk)
            sent += len(chunk)
            remain -= len(chunk)
        self.write(b"\x04")
        while True:  # the board may still grant windows before it acknowledges the end
            byte = self.read_exactly(1, timeout)
            if byte == b"\x04":
                break
            assert byte == b"\x01", f"unexpected {byte!r} before the end of the raw paste"
        out = self.read_until(b"\x04", timeout)[:-1]
        err = self.read_until(b"\x04", timeout)[:-1]
        self.read_until(b">", timeout)
        return out, err

    def close(self) -> int:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()
        return self.proc.returncode


class Processes:
    """Look at processes through ``/proc``: children of a pid, and whether pids are gone."""

    @staticmethod
    def children(pid: int) -> list[int]:
        """Child pids of ``pid`` (all its threads)."""
        found: list[int] = []
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(child) for child in (task / "children").read_text().split()]
        return found

    @staticmethod
    def alive(pid: int) -> bool:
        """Whether ``pid`` runs (a zombie does not)."""
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return state != "Z"

    def gone_within(self, pids: list[int], seconds: float) -> bool:
        """Wait up to ``seconds`` for every pid to end; return whether they did."""
        deadline = time.monotonic() + seconds
        while any(self.alive(pid) for pid in pids):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True


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


@contextlib.contextmanager
def microbit_on_qemu_pty(log: Path) -> Iterator[str]:
    """The micro:bit firmware in ``qemu-system-arm -M microbit -serial pty``; yields the ``/dev/pts/N`` qemu made.

    Nothing of ours sits between Belay and qemu: the firmware's 64-byte UART receive buffer sees the
    host's bytes as fast as qemu hands them over, as on a real board's line. qemu is killed on exit,
    whatever happens; ``log`` gets its output. A missing qemu or firmware fails the test
    (``belay-emulator setup --apt`` installs them).
    """
    from belay_emulator.boards import microbit

    reason = microbit.unavailable()
    if reason is not None:
        pytest.fail(f"the micro:bit firmware cannot run here: {reason}")
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


def fake_port_info(device: str, vid: Optional[int] = None, pid: Optional[int] = None, **fields: Any) -> Any:
    """A pyserial ``ListPortInfo`` as the operating system would list it."""
    from serial.tools.list_ports_common import ListPortInfo

    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid = vid, pid
    for name, value in fields.items():
        setattr(info, name, value)
    return info
