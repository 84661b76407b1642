"""An interactive session with the board's own REPL, over any transport (`Device.terminal`, ``belay terminal``)."""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any, Callable, Optional

EXIT_BYTE = b"\x1d"
"""Ctrl-]: ends the session (as in telnet and miniterm)."""

POLL = 0.1


@contextlib.contextmanager
def raw_stdin(fd: int) -> Iterator[bool]:
    """Put the terminal on ``fd`` in raw mode for the block and restore it after; yields whether it did."""
    if os.name != "posix" or not os.isatty(fd):
        yield False
        return
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield True
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


class TerminalSession:
    """Two relays: board to stdout in a thread, stdin to board in another; the caller waits for the end.

    Parameters
    ----------
    transport
        An open transport: the line to the board.
    stdin_fd
        Where keys come from.
    stdout
        A binary stream the board's output is written to.
    drain
        After input ends, keep showing board output until it has been quiet this many seconds.
    exit_byte
        The key that ends the session (Ctrl-] by default).
    scan
        Passes the board's output through it first (`belay_core.frames.RequestScanner`: answers a
        mounted folder's requests).
    """

    def __init__(
        self,
        transport: Any,
        stdin_fd: int,
        stdout: Any,
        drain: float,
        exit_byte: bytes = EXIT_BYTE,
        scan: Optional[Callable[[bytes], bytes]] = None,
    ) -> None:
        self.transport = transport
        self.scan = scan
        self.exit_byte = exit_byte
        self.stdin_fd = stdin_fd
        self.stdout = stdout
        self.drain = drain
        self.stop = threading.Event()
        self.events: queue.Queue[str] = queue.Queue()
        self.lost: Optional[BaseException] = None
        self.last_output = time.monotonic()

    def run(self) -> None:
        """Relay until input ends, the exit key is typed or the line is lost (then ``lost`` is set)."""
        reader = threading.Thread(target=self._board_to_host, name="board-to-host", daemon=True)
        reader.start()
        threading.Thread(target=self._host_to_board, name="host-to-board", daemon=True).start()
        try:
            reason = self.events.get()
            if reason == "input-done":  # stdin ended or Ctrl-]: show what the board still prints, then stop
                while self.lost is None and time.monotonic() - self.last_output < self.drain:
                    time.sleep(POLL / 2)
        finally:
            self.stop.set()
            reader.join(1 + POLL)  # it reads with a short timeout; the line is closed only after it ends

    def _board_to_host(self) -> None:
        from belay_core.errors import ConnectionLost

        while not self.stop.is_set():
            try:
                data = self.transport.read(4096, POLL)
            except ConnectionLost as exc:
                self.lost = exc
                self.events.put("lost")
                return
            if data and self.scan is not None:  # the board's requests (a mounted folder) are answered, not shown
                data = self.scan(data)
            if data:
                self.last_output = time.monotonic()
                self.stdout.write(data)
                self.stdout.flush()

    def _read_stdin(self) -> Optional[bytes]:
        """A chunk of stdin, ``b""`` at end of file, ``None`` when nothing came within `POLL` (POSIX)."""
        if os.name == "posix":
            import select

            ready, _, _ = select.select([self.stdin_fd], [], [], POLL)
            if not ready:
                return None
        return os.read(self.stdin_fd, 1024)

    def _host_to_board(self) -> None:
        from belay_core.errors import ConnectionLost

        try:
            while not self.stop.is_set():
                data = self._read_stdin()
                if data is None:
                    continue
                if not data:
                    break
                data, found, _ = data.partition(self.exit_byte)
                if data:
                    self.transport.write(data)
                    self.last_output = time.monotonic()
                if found:
                    break
        except ConnectionLost as exc:
            self.lost = exc
            self.events.put("lost")
            return
        except OSError:
            pass
        self.events.put("input-done")


__all__ = ["EXIT_BYTE", "TerminalSession", "raw_stdin"]
