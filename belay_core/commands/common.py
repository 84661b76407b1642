"""Options and error handling shared by device commands: use them in plugin commands too."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar

import click

from belay_core.errors import BelayError, DeviceError, DeviceExit

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

F = TypeVar("F", bound=Callable[..., Any])


def spec_option(func: F, *, required: bool = True) -> F:
    """``-d/--device SPEC`` (default: ``BELAY_DEVICE``), required unless ``required=False``."""
    return click.option(
        "-d",
        "--device",
        "spec",
        envvar="BELAY_DEVICE",
        show_envvar=True,
        required=required,
        metavar="SPEC",
        help="The board: emu:, exec:COMMAND, a serial port, ws://HOST, ...",
    )(func)


def device_option(func: F, *, required: bool = True) -> F:
    """``-d/--device SPEC`` (default: ``BELAY_DEVICE``) and ``--timeout``."""
    func = click.option(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="Seconds a call may take (default 60; 0 waits forever).",
    )(func)
    return spec_option(func, required=required)


def sync_options(func: F) -> F:
    """``--no-minify`` and ``--mpy-cross [BINARY]``; the command receives ``sync_kwargs`` for `Device.sync`."""

    @functools.wraps(func)
    def wrapper(*args: Any, no_minify: bool, mpy_cross: Optional[str], **kwargs: Any) -> Any:
        compile_ = None if mpy_cross is None else (True if mpy_cross == "auto" else mpy_cross)
        return func(*args, sync_kwargs={"minify": not no_minify, "mpy_cross": compile_}, **kwargs)

    wrapper = click.option(
        "--mpy-cross",
        "mpy_cross",
        is_flag=False,
        flag_value="auto",
        default=None,
        metavar="[BINARY]",
        help="Compile .py to .mpy for the board (needs belay-mpy-cross); optionally with this mpy-cross binary.",
    )(wrapper)
    return click.option("--no-minify", is_flag=True, help="Send .py files as they are.")(wrapper)  # type: ignore[return-value]


def human_size(size: float) -> str:
    """``2048`` → ``"2.0 KiB"``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def optional_device_option(func: F) -> F:
    """`device_option` whose ``-d`` may be left out (commands that can also work without a board)."""
    return device_option(func, required=False)


def timeout_value(timeout: Optional[float]) -> Optional[float]:
    """Translate ``--timeout`` (``None`` default, ``0`` forever) to `Device`'s argument."""
    from belay_core.device import DEFAULT_TIMEOUT

    if timeout is None:
        return DEFAULT_TIMEOUT
    return None if timeout == 0 else timeout


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


def err_console() -> Console:
    """A rich console on standard error (news and progress; standard output stays for results)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)
