"""``belay terminal``: the board's own REPL at the host's terminal, over any transport."""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, Optional

import click

from belay_core.commands.common import spec_option

EXIT_BYTE = b"\x1d"
"""Ctrl-]: ends the session (as in telnet and miniterm)."""

POLL = 0.1


@contextlib.contextmanager
def _raw_stdin(fd: int) -> Iterator[bool]:
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


class _Session:
    """Two relays: board to stdout in a thread, stdin to board in another; the caller waits for the end."""

    def __init__(self, transport: Any, stdin_fd: int, stdout: Any, drain: float) -> None:
        self.transport = transport
        self.stdin_fd = stdin_fd
        self.stdout = stdout
        self.drain = drain
        self.stop = threading.Event()
        self.events: queue.Queue[str] = queue.Queue()
        self.lost: Optional[BaseException] = None
        self.last_output = time.monotonic()

    def run(self) -> None:
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
                data, found, _ = data.partition(EXIT_BYTE)
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


@click.command("terminal")
@spec_option
@click.option("--baudrate", type=click.IntRange(min=1), default=None, help="Serial line speed (serial ports only).")
@click.option(
    "--drain",
    type=float,
    default=None,
    metavar="SECONDS",
    help="After input ends, keep showing board output until it is quiet this long (default 0.2 at a "
    "terminal, 1 when stdin is a pipe).",
)
def terminal(spec: str, baudrate: Optional[int], drain: Optional[float]) -> None:
    """Interactive REPL of the board over any transport. Ctrl-] exits.

    Keys go to the board as typed (Ctrl-C interrupts the board, Ctrl-D soft-resets it); the host
    terminal is in raw mode until the session ends. When stdin is not a terminal, its bytes are
    sent as they come and the session ends at end of input, after the board's output settles.
    """
    from belay_core.commands.common import reporting
    from belay_core.errors import BelayError
    from belay_core.plugins import get_plugins

    options = {} if baudrate is None else {"baudrate": baudrate}
    stdin_fd = sys.stdin.fileno()
    interactive = os.isatty(stdin_fd)
    if drain is None:
        drain = 0.2 if interactive else 1.0
    with reporting():
        transport = get_plugins().transport_for(spec).load()(spec, **options)
        transport.open()
        session = _Session(transport, stdin_fd, sys.stdout.buffer, drain)
        try:
            click.echo(f"Connected to {transport.describe()}. Ctrl-] exits.", err=True)
            with _raw_stdin(stdin_fd):
                session.run()
        finally:
            session.stop.set()
            transport.close()
        if session.lost is not None:
            click.echo("", err=True)
            if isinstance(session.lost, BelayError):
                raise session.lost
        if interactive:
            click.echo("", err=True)
