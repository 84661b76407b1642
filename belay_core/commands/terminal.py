"""``belay terminal``: the board's own REPL at the host's terminal, over any transport."""

from __future__ import annotations

import os
import sys
from typing import Any, Optional

import click

from belay_core.commands.options import resolve_spec, spec_option
from belay_core.terminal import TerminalSession, raw_stdin


@click.command("terminal")
@spec_option
@click.option(
    "--baudrate", type=click.IntRange(min=1), default=None, help="Serial line speed (ignored by other transports)."
)
@click.option(
    "--drain",
    type=float,
    default=None,
    metavar="SECONDS",
    help="After input ends, keep showing board output until it is quiet this long (default 0.2 at a "
    "terminal, 1 when stdin is a pipe).",
)
def terminal(spec: Optional[str], baudrate: Optional[int], drain: Optional[float]) -> None:
    """Interactive REPL of the board over any transport. Ctrl-] exits.

    Keys go to the board as typed (Ctrl-C interrupts the board, Ctrl-D soft-resets it); the host
    terminal is in raw mode until the session ends. When stdin is not a terminal, its bytes are
    sent as they come and the session ends at end of input, after the board's output settles.
    """
    from belay_core.commands.console import reporting
    from belay_core.errors import BelayError
    from belay_core.plugins import open_transport

    options: dict[str, Any] = {} if baudrate is None else {"baudrate": baudrate}
    stdin_fd = sys.stdin.fileno()
    interactive = os.isatty(stdin_fd)
    if drain is None:
        drain = 0.2 if interactive else 1.0
    with reporting():
        transport = open_transport(resolve_spec(spec) or "", **options)
        transport.open()
        session = TerminalSession(transport, stdin_fd, sys.stdout.buffer, drain)
        try:
            click.echo(f"Connected to {transport.describe()}. Ctrl-] exits.", err=True)
            with raw_stdin(stdin_fd):
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
