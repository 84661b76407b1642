"""Registration of the ``emu:`` transport (import-light: the transport is imported on first use)."""

from __future__ import annotations

from belay_core import hookimpl
from belay_core.records import TransportRecord


@hookimpl
def belay_register_transports() -> list[TransportRecord]:
    """The ``emu:[unix|wasm|microbit]`` transport."""
    return [
        TransportRecord(
            "emu",
            "belay_emulator.transport:EmulatorTransport",
            "Real MicroPython with no hardware: emu:unix, emu:wasm, emu:microbit, or emu: for the best here.",
            prefixes=("emu:",),
            example="emu:unix?fs=./board",
        )
    ]
