"""Core's own registrations, made through the same hooks as any plugin (``trylast``)."""

from __future__ import annotations

from belay_core.hookspecs import hookimpl
from belay_core.records import CommandRecord


@hookimpl(trylast=True)
def belay_register_commands() -> list[CommandRecord]:
    """Core's commands."""
    return [
        CommandRecord("exec", "belay_core.commands.exec:exec_", "Run a statement or expression on the board."),
        CommandRecord("run", "belay_core.commands.run:run", "Run a local Python file on the board."),
        CommandRecord("info", "belay_core.commands.info:info", "Show the board's firmware, platform and arch."),
        CommandRecord("latency", "belay_core.commands.latency:latency", "Measure the round trip of a tiny call."),
        CommandRecord("plugins", "belay_core.commands.plugins:plugins", "List plugins and what they provide."),
    ]
