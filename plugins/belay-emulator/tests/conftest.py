"""Byte-level access to an emulated board program, for the board tests."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Callable

import pytest

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


@pytest.fixture
def processes() -> Processes:
    """`Processes`, for tests that check no board process is left behind."""
    return Processes()


@pytest.fixture
def board_io() -> Iterator[Callable[..., BoardIO]]:
    """Start board programs; every one is closed and reaped after the test."""
    started: list[BoardIO] = []

    def start(board: str, *args: str) -> BoardIO:
        io = BoardIO(board, *args)
        started.append(io)
        return io

    yield start
    for io in started:
        io.close()
