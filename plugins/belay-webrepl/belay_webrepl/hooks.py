"""Registration of the ``ws://`` and ``wss://`` transport (import-light: the transport is imported on first use)."""

from __future__ import annotations

from belay_core import hookimpl
from belay_core.records import TransportRecord


@hookimpl
def belay_register_transports() -> list[TransportRecord]:
    """The ``ws://HOST[:PORT]`` WebREPL transport."""
    return [
        TransportRecord(
            "webrepl",
            "belay_webrepl.transport:WebreplTransport",
            "A board's WebREPL over a websocket; password from password=, the URL or BELAY_PASSWORD.",
            prefixes=("ws://", "wss://"),
            example="ws://192.168.4.1:8266",
        )
    ]
