"""Registration of the ``belay mpy-cross`` command (import-light: the command is imported on first use)."""

from __future__ import annotations

from belay_core import hookimpl
from belay_core.records import CommandRecord


@hookimpl
def belay_register_commands() -> list[CommandRecord]:
    """The ``belay mpy-cross`` command."""
    return [CommandRecord("mpy-cross", "belay_mpy_cross.cli:mpy_cross", "Compile .py files to .mpy for a board.")]
