"""What board commands print: errors as one clean line (`reporting`), sizes, progress bars, the stderr console."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Callable

import click

from belay_core.errors import BelayError, DeviceError, DeviceExit

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress


@contextlib.contextmanager
def reporting() -> Iterator[None]:
    """Turn Belay errors into a clean message and a non-zero exit, with no host stack trace."""
    try:
        yield
    except DeviceExit as exc:
        # The program on the board called sys.exit(): exit as CPython would for that code.
        if not exc.known:
            click.echo("the program on the board called sys.exit() with a code Belay could not see", err=True)
            sys.exit(1)
        if exc.code is not None and not isinstance(exc.code, int):
            click.echo(str(exc.code), err=True)
        sys.exit(exc.exit_status)
    except DeviceError as exc:
        click.echo(exc.traceback, err=True)
        sys.exit(1)
    except BelayError as exc:
        click.secho(f"Error: {exc}", fg="red", err=True)
        sys.exit(2)


def plural(count: int, word: str, words: str = "") -> str:
    """``"1 file"``, ``"2 files"``; ``words`` for an irregular plural (``plural(n, "directory", "directories")``)."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


def human_size(size: float) -> str:
    """``2048`` → ``"2.0 KiB"``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def bytes_progress(console: Console, description: str) -> Progress:
    """A transient rich progress display of bytes moved, shown on a terminal only.

    Parameters
    ----------
    console
        Where it draws.
    description
        The text column's format, such as ``"{task.description}"``.
    """
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    return Progress(
        TextColumn(description),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


@contextlib.contextmanager
def sync_progress(console: Console, label: str = "sync") -> Iterator[Callable[[str, int, int], None]]:
    """A transient progress bar for a sync; yields the ``progress(path, done, total)`` callback."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn(f"[bold]{label}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("", total=None)

        def progress(path: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=path)

        yield progress


class SyncBar:
    """Byte progress of a sync on a rich bar: `start` with the plan, `advance` from ``byte_progress``."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.task = bar.add_task("", total=None, files="")
        self.seen: dict[str, int] = {}
        self.files = 0
        self.finished = 0

    def start(self, upload_bytes: int, files: int) -> None:
        """The plan is known: ``upload_bytes`` in ``files`` files will be sent."""
        self.files = files
        self.bar.update(self.task, total=upload_bytes or None, files=f"0/{files} files")

    def advance(self, path: str, done: int, size: int) -> None:
        """``byte_progress(path, done, size)`` of `Device.sync`."""
        step = done - self.seen.get(path, 0)
        self.seen[path] = done
        if done == size and step >= 0 and (step or size == 0):
            self.finished += 1
        self.bar.update(self.task, advance=step, description=path, files=f"{self.finished}/{self.files} files")


@contextlib.contextmanager
def sync_bytes_progress(console: Console, label: str = "sync") -> Iterator[SyncBar]:
    """A transient progress bar of the bytes a sync sends (and files done), on a terminal only."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    with Progress(
        TextColumn(f"[bold]{label}[/]"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn("{task.fields[files]}"),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        yield SyncBar(bar)


def err_console() -> Console:
    """A rich console on standard error (news and progress; standard output stays for results)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)
