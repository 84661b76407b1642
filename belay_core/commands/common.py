"""Options and error handling shared by device commands: use them in plugin commands too."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any, Callable, Optional, TypeVar

import click

from belay_core.errors import BelayError, DeviceError

F = TypeVar("F", bound=Callable[..., Any])


def spec_option(func: F) -> F:
    """``-d/--device SPEC`` (default: ``BELAY_DEVICE``), required."""
    return click.option(
        "-d",
        "--device",
        "spec",
        envvar="BELAY_DEVICE",
        show_envvar=True,
        required=True,
        metavar="SPEC",
        help="The board: emu:, exec:COMMAND, a serial port, ws://HOST, ...",
    )(func)


def device_option(func: F) -> F:
    """``-d/--device SPEC`` (default: ``BELAY_DEVICE``) and ``--timeout``."""
    func = click.option(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="Seconds a call may take (default 60; 0 waits forever).",
    )(func)
    return spec_option(func)


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
    except DeviceError as exc:
        click.echo(exc.traceback, err=True)
        sys.exit(1)
    except BelayError as exc:
        click.secho(f"Error: {exc}", fg="red", err=True)
        sys.exit(2)
