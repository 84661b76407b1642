"""Registration of the ``telnet://`` transport and ``belay serve`` (import-light: both are imported on first use)."""

from __future__ import annotations

from belay_core import hookimpl
from belay_core.records import CommandRecord, TransportRecord

BARE_ADDRESS = r"^\d[\d.]*(:\d*)?$"
"""What may be a bare IPv4 address with an optional port, the original belay's telnet spec: digits and
dots (the transport checks the form, so ``1234`` gets a clear error rather than "no transport")."""


@hookimpl
def belay_register_transports() -> list[TransportRecord]:
    """The ``telnet://`` transport, also for bare ``a.b.c.d[:port]`` specs."""
    return [
        TransportRecord(
            "telnet",
            "belay_telnet.transport:TelnetTransport",
            "A board's telnet REPL over TCP (Login as / Password handshake).",
            prefixes=("telnet://",),
            pattern=BARE_ADDRESS,
            example="telnet://192.168.4.1 or 192.168.4.1:23",
        )
    ]


@hookimpl
def belay_register_commands() -> list[CommandRecord]:
    """``belay serve``: one board for other machines, on stdin/stdout or as a telnet server."""
    return [
        CommandRecord(
            "serve",
            "belay_telnet.serve:serve",
            "Serve one board to other machines: on stdin/stdout or a TCP port.",
        )
    ]
