"""The package manager's registrations: its commands and the ``local``, ``http`` and ``index`` downloaders.

Import-light: nothing but core's records, so ``belay --help`` imports no httpx, tomlkit or platformdirs.

>>> sorted(record.name for record in belay_register_downloaders())
['http', 'index', 'local']
"""

from __future__ import annotations

from belay_core import hookimpl
from belay_core.records import CommandRecord, DownloaderRecord


@hookimpl
def belay_register_commands() -> list[CommandRecord]:
    """The package manager's commands (``belay run --local`` runs ``run-local``)."""
    return [
        CommandRecord("new", "belay_packages.commands.new:new", "Create a project, or add [tool.belay] to one."),
        CommandRecord("init", "belay_packages.commands.new:new", "Same as new."),
        CommandRecord("add", "belay_packages.commands.deps:add", "Download a dependency and add it to pyproject.toml."),
        CommandRecord(
            "install", "belay_packages.commands.install:install", "Install dependencies and project on the board."
        ),
        CommandRecord(
            "update", "belay_packages.commands.deps:update", "Resolve dependencies again; rewrite belay.lock."
        ),
        CommandRecord(
            "lock", "belay_packages.commands.deps:lock_", "Write belay.lock, or --check it against pyproject."
        ),
        CommandRecord("clean", "belay_packages.commands.deps:clean", "Remove dependencies the config no longer names."),
        CommandRecord("cache", "belay_packages.commands.cache:cache", "The download cache: list, info, clear."),
        CommandRecord(
            "run-local",
            "belay_packages.commands.run_local:run_local",
            "A local MicroPython with the dependencies (run --local).",
        ),
    ]


@hookimpl
def belay_register_downloaders() -> list[DownloaderRecord]:
    """The package manager's downloaders: local paths, plain http(s) files, and the MicroPython package index."""
    return [
        DownloaderRecord(
            "local",
            "belay_packages.downloaders.local:LocalDownloader",
            "Files and folders on this computer, relative to the project.",
            schemes=("file:",),
        ),
        DownloaderRecord(
            "http",
            "belay_packages.downloaders.http:HttpDownloader",
            "Single files over http(s); a package.json URL installs that manifest.",
            schemes=("http://", "https://"),
        ),
        DownloaderRecord(
            "index",
            "belay_packages.downloaders.index:IndexDownloader",
            "The MicroPython package index: NAME, NAME@VERSION, mip:NAME.",
            schemes=("mip:",),
        ),
    ]
