r"""The ``microbit`` board: the micro:bit MicroPython firmware (v1.9.2) on ``qemu-system-arm -M microbit``.

The firmware's UART is qemu's ``-serial stdio`` on two pipes. Everything a board does on its serial line
is the firmware's own: banner, friendly and raw REPL, Ctrl-C (also in busy loops), soft reset (printed
as ``soft reboot\r\n`` by this old firmware) and ``\r\n`` line endings. The firmware has no
raw-paste: it answers ``\x05A\x01`` as ordinary raw-REPL input (the ``\x01`` re-enters the raw REPL), so
hosts fall back to the classic raw REPL; this relay leaves that as is.

The relay only strips the NUL byte qemu's UART emits before the banner, and makes sure qemu (which
spins a host core) never outlives it: qemu runs in its own session, is killed when stdin closes, on
SIGTERM, and by the kernel when this process dies in any way (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import ctypes
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Optional

FIRMWARE = Path("/usr/share/firmware-microbit-micropython/firmware.hex")
"""The firmware image of Debian's ``firmware-microbit-micropython`` package."""

_PR_SET_PDEATHSIG = 1

BAUD = int(os.environ.get("BELAY_MICROBIT_BAUD", "38400"))
"""Pace of host-to-board bytes. The real board's line runs at 115200 baud, but under qemu the
firmware drains its small receive buffer more slowly: at that pace it dropped bytes of long
classic raw-REPL input (while its heap collected garbage) in about one connect of three; at 38400
it dropped none in our stress runs. Set ``BELAY_MICROBIT_BAUD`` to try another pace."""
BYTES_PER_SECOND = BAUD / 10
PACE_CHUNK = 16

FIRST_PROMPT = b">>> "
"""The end of the firmware's boot: host bytes wait for it, as bytes reaching the UART while the firmware
boots can be lost (seen on a loaded machine), and a real board is up when a host opens its line."""
BOOT_WAIT = 60.0
"""Seconds host bytes wait for the first prompt before they go in anyway."""


def unavailable() -> str | None:
    """Why the micro:bit board cannot run here, or ``None`` when it can.

    Returns
    -------
    str or None
        A one-line reason naming what to install.
    """
    if shutil.which("qemu-system-arm") is None:
        return "qemu-system-arm not found: apt-get install qemu-system-arm"
    if not FIRMWARE.is_file():
        return f"{FIRMWARE} not found: apt-get install firmware-microbit-micropython"
    return None


def command() -> list[str]:
    """Return the qemu command line that runs the firmware with its UART on stdin/stdout.

    Returns
    -------
    list of str
        Arguments for `subprocess.Popen`.
    """
    qemu = shutil.which("qemu-system-arm") or "qemu-system-arm"
    return [
        qemu,
        "-M",
        "microbit",
        "-device",
        f"loader,file={FIRMWARE}",
        "-display",
        "none",
        "-monitor",
        "none",
        "-serial",
        "stdio",
    ]


def serve(fs: Path | None) -> int:
    """Serve the emulated micro:bit on this process's stdin/stdout until stdin closes.

    Parameters
    ----------
    fs
        Ignored: the firmware keeps its own flat filesystem in emulated flash, fresh at each start.

    Returns
    -------
    int
        0 after stdin closed or SIGTERM; 1 when qemu ended by itself.
    """
    reason = unavailable()
    if reason is not None:
        raise RuntimeError(reason)
    return _Relay().run()


class _Shutdown(Exception):
    """Raised in the main thread by SIGTERM."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Shutdown


def _die_with_parent(parent: int) -> None:
    """``preexec_fn`` of qemu: get SIGKILL when the thread that started it (our main thread) ends."""
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _Relay:
    """qemu plus two copying threads; the main thread waits for stdin EOF, SIGTERM or qemu's end."""

    def __init__(self) -> None:
        self.events: queue.Queue[str] = queue.Queue()
        self.qemu: Optional[subprocess.Popen] = None
        self.booted = threading.Event()

    def run(self) -> int:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            parent = os.getpid()
            # Started before any thread exists, so preexec_fn is safe.
            self.qemu = subprocess.Popen(
                command(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                bufsize=0,
                start_new_session=True,
                close_fds=True,
                preexec_fn=lambda: _die_with_parent(parent),
            )
            assert self.qemu.stdin is not None and self.qemu.stdout is not None
            to_board, from_board = self.qemu.stdin.fileno(), self.qemu.stdout.fileno()
            threading.Thread(target=self._pump_in, args=(to_board,), name="host-to-board", daemon=True).start()
            threading.Thread(target=self._pump_out, args=(from_board,), name="board-to-host", daemon=True).start()
            threading.Thread(target=self._wait, name="board-waiter", daemon=True).start()
            return 0 if self.events.get() == "eof" else 1
        except _Shutdown:
            return 0
        finally:
            signal.signal(signal.SIGTERM, previous)
            self._kill()

    def _kill(self) -> None:
        qemu = self.qemu
        if qemu is None:
            return
        if qemu.poll() is None:
            try:
                os.killpg(qemu.pid, signal.SIGKILL)
            except OSError:
                qemu.kill()
        qemu.wait()

    def _wait(self) -> None:
        assert self.qemu is not None
        self.qemu.wait()
        self.events.put("exit")

    def _pump_in(self, to_board: int) -> None:
        # Paced like a serial line (see BAUD): qemu hands bytes to the firmware as fast as they come,
        # and the firmware's small receive buffer drops what it cannot take in time.
        due = time.monotonic()
        try:
            while True:
                data = os.read(0, 65536)
                if not data:
                    break
                self.booted.wait(BOOT_WAIT)
                for start in range(0, len(data), PACE_CHUNK):
                    chunk = data[start : start + PACE_CHUNK]
                    now = time.monotonic()
                    if due > now:
                        time.sleep(due - now)
                    _write_all(to_board, chunk)
                    due = max(due, now) + len(chunk) / BYTES_PER_SECOND
        except OSError:
            pass
        self.events.put("eof")

    def _pump_out(self, from_board: int) -> None:
        first = True
        seen = b""
        try:
            while True:
                data = os.read(from_board, 65536)
                if not data:
                    return
                if first:
                    first = False
                    if data[:1] == b"\0":
                        data = data[1:]
                if not self.booted.is_set():
                    seen = seen[-len(FIRST_PROMPT) :] + data
                    if FIRST_PROMPT in seen:
                        self.booted.set()
                _write_all(1, data)
        except OSError:
            self.events.put("eof")
