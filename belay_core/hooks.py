"""Core's own hook implementations, registered like any plugin's (as the plugin ``core``, ``trylast``).

The package manager's commands and downloaders are registered by the belay-packages plugin
(``belay_packages.hooks``), not here.
"""

from __future__ import annotations

from belay_core.hookspecs import hookimpl
from belay_core.records import CommandRecord, ExecuterRecord, HasherRecord, MinifierRecord


@hookimpl(trylast=True)
def belay_register_commands() -> list[CommandRecord]:
    """Core's commands."""
    return [
        CommandRecord("exec", "belay_core.commands.exec:exec_", "Run a statement or expression on the board."),
        CommandRecord("run", "belay_core.commands.run:run", "Run a local Python file on the board."),
        CommandRecord("info", "belay_core.commands.info:info", "Show the board's firmware, platform and arch."),
        CommandRecord("latency", "belay_core.commands.latency:latency", "Measure the round trip of a tiny call."),
        CommandRecord("plugins", "belay_core.commands.plugins:plugins", "List plugins and what they provide."),
        CommandRecord("terminal", "belay_core.commands.terminal:terminal", "Interactive REPL over any transport."),
        CommandRecord("fs", "belay_core.commands.fs:fs", "Files on the board: ls, cat, cp, get, put, rm, mkdir, ..."),
        CommandRecord("sync", "belay_core.commands.sync:sync", "Sync a folder to the board by hash difference."),
        CommandRecord("reset", "belay_core.commands.board:reset", "Hard-reset the board and reconnect."),
        CommandRecord("soft-reset", "belay_core.commands.board:soft_reset", "Soft-reset the board."),
        CommandRecord("rtc", "belay_core.commands.board:rtc", "Show or set the board's date and time."),
        CommandRecord("edit", "belay_core.commands.board:edit", "Edit a board file in the host's editor."),
        CommandRecord("mount", "belay_core.commands.mount:mount", "Mount a host folder on the board (chain with +)."),
    ]


@hookimpl(trylast=True)
def belay_register_minifiers() -> list[MinifierRecord]:
    """Core's minifier."""
    return [
        MinifierRecord(
            "default",
            "belay_core.minifier:minify",
            "Drop comments, docstrings and spare white space; keep line numbers.",
        )
    ]


@hookimpl(trylast=True)
def belay_register_executers() -> list[ExecuterRecord]:
    """Core's decorators: ``@device.setup``, ``@device.task``, ``@device.thread``, ``@device.teardown``."""
    return [
        ExecuterRecord("setup", "belay_core.executers:SetupExecuter", "Run the body in the board's global scope."),
        ExecuterRecord("task", "belay_core.executers:TaskExecuter", "Define on the board; calls run there."),
        ExecuterRecord("thread", "belay_core.executers:ThreadExecuter", "Define on the board; calls start a thread."),
        ExecuterRecord("teardown", "belay_core.executers:TeardownExecuter", "Run the body when the device closes."),
    ]


@hookimpl(trylast=True)
def belay_register_hashers() -> list[HasherRecord]:
    """Core's hashers: FNV-1a 32 in plain MicroPython (runs everywhere) and SHA-256 by the firmware's hashlib."""
    return [
        HasherRecord(
            "fnv1a32", "belay_core.hashing:FNV1a32Hasher", "FNV-1a 32 in plain MicroPython; runs on every firmware."
        ),
        HasherRecord(
            "sha256",
            "belay_core.hashing:Sha256Hasher",
            "SHA-256 by the firmware's C hashlib; before FNV-1a where native code cannot run.",
        ),
    ]
