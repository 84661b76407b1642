"""Registration of the ``exec:`` transport (import-light: the transport is imported on first use)."""

from __future__ import annotations

from belay_core import hookimpl
from belay_core.records import TransportRecord


@hookimpl
def belay_register_transports() -> list[TransportRecord]:
    """The ``exec:COMMAND`` transport."""
    return [
        TransportRecord(
            "exec",
            "belay_exec.transport:ExecTransport",
            "Run a command; its stdin/stdout are the line to the board.",
            prefixes=("exec:",),
            example="exec:belay-emulator unix",
        )
    ]
