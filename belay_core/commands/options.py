"""Click options shared by board commands (``-d/--device``, ``--timeout``, sync's): use them in plugin commands too."""

from __future__ import annotations

import functools
from typing import Any, Callable, Optional, TypeVar

import click

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


def optional_device_option(func: F) -> F:
    """`device_option` whose ``-d`` may be left out (commands that can also work without a board)."""
    return device_option(func, required=False)


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


def timeout_value(timeout: Optional[float]) -> Optional[float]:
    """Translate ``--timeout`` (``None`` default, ``0`` forever) to `Device`'s argument."""
    from belay_core.device import DEFAULT_TIMEOUT

    if timeout is None:
        return DEFAULT_TIMEOUT
    return None if timeout == 0 else timeout
