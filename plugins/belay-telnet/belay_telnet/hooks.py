"""Registration of the ``telnet://`` transport (import-light: the transport is imported on first use)."""

from __future__ import annotations

from belay_core import hookimpl
from belay_core.records import TransportRecord

DIGITS = tuple("0123456789")
"""A bare IPv4 address has no fixed prefix: every leading digit is claimed, the transport checks the form."""


@hookimpl
def belay_register_transports() -> list[TransportRecord]:
    """The ``telnet://`` transport, also for bare ``a.b.c.d[:port]`` specs."""
    return [
        TransportRecord(
            "telnet",
            "belay_telnet.transport:TelnetTransport",
            "A board's telnet REPL over TCP (Login as / Password handshake).",
            prefixes=("telnet://", *DIGITS),
            example="telnet://192.168.4.1 or 192.168.4.1:23",
        )
    ]
