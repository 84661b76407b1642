"""Core's own registrations, made through the same hooks as any plugin (``trylast``)."""

from __future__ import annotations

from belay_core.hookspecs import hookimpl
from belay_core.records import CommandRecord, DownloaderRecord, ExecuterRecord, HasherRecord, MinifierRecord


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
        CommandRecord("fs", "belay_core.commands.fs:fs", "Files on the board: ls, cat, get, put, rm, mkdir, tree, df."),
        CommandRecord("sync", "belay_core.commands.sync:sync", "Sync a folder to the board by hash difference."),
        CommandRecord("new", "belay_core.commands.new:new", "Create a project, or add [tool.belay] to one."),
        CommandRecord("init", "belay_core.commands.new:new", "Same as new."),
        CommandRecord("add", "belay_core.commands.deps:add", "Download a dependency and add it to pyproject.toml."),
        CommandRecord(
            "install", "belay_core.commands.install:install", "Install dependencies and project on the board."
        ),
        CommandRecord("update", "belay_core.commands.deps:update", "Resolve dependencies again; rewrite belay.lock."),
        CommandRecord("lock", "belay_core.commands.deps:lock_", "Write belay.lock, or --check it against pyproject."),
        CommandRecord("clean", "belay_core.commands.deps:clean", "Remove dependencies the config no longer names."),
        CommandRecord("cache", "belay_core.commands.cache:cache", "The download cache: list, info, clear."),
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
    """Core's hasher: FNV-1a 32 in plain MicroPython, the fallback that runs on every firmware."""
    return [
        HasherRecord(
            "fnv1a32", "belay_core.hashing:FNV1a32Hasher", "FNV-1a 32 in plain MicroPython; runs on every firmware."
        )
    ]


@hookimpl(trylast=True)
def belay_register_downloaders() -> list[DownloaderRecord]:
    """Core's downloaders: local paths, plain http(s) files, and the MicroPython package index."""
    return [
        DownloaderRecord(
            "local",
            "belay_core.downloaders.local:LocalDownloader",
            "Files and folders on this computer, relative to the project.",
            schemes=("file:",),
        ),
        DownloaderRecord(
            "http",
            "belay_core.downloaders.http:HttpDownloader",
            "Single files over http(s); a package.json URL installs that manifest.",
            schemes=("http://", "https://"),
        ),
        DownloaderRecord(
            "index",
            "belay_core.downloaders.index:IndexDownloader",
            "The MicroPython package index: NAME, NAME@VERSION, mip:NAME.",
            schemes=("mip:",),
        ),
    ]
