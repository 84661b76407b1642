"""Options shared by board commands, and `board`, the connection a command uses: for plugin commands too.

``-d/--device``, ``--timeout``, ``--no-soft-reset`` (`device_option`) and sync's (`sync_options`).

A board command finds its board in this order: its own ``-d``, the ``-d`` given before the command
(``belay -d SPEC exec ...``), ``BELAY_DEVICE``, else the one board attached (said on stderr). Commands
chained with ``+`` on one command line share one connection (`board` keeps it open until the last
command ends), so board state carries from one command to the next, as with mpremote.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar

import click
from attrs import define, field

if TYPE_CHECKING:
    from belay_core.device import Device

F = TypeVar("F", bound=Callable[..., Any])

BOARD_KEY = "belay.board"
"""Where the root context's `BoardChoice` and open devices live (``ctx.meta``)."""
PASSWORD_ATTR = "belay_password"
"""The attribute of a command's context that holds its ``--password``."""
NO_SOFT_RESET_ATTR = "belay_no_soft_reset"
"""The attribute of a command's context that says ``--no-soft-reset`` was given to it."""
ROOT_OPTIONS_KEY = "belay.options"
"""Where ``belay``'s own ``-d``, ``--timeout`` and ``--no-soft-reset`` wait (``ctx.meta``), as a tuple."""


@define
class BoardChoice:
    """What ``belay [-d SPEC] [--timeout S] [--no-soft-reset]`` said before the command, and the open boards."""

    spec: Optional[str] = None
    timeout: Optional[float] = None
    soft_reset: bool = True
    devices: dict[str, Device] = field(factory=dict)


def spec_option(func: F, *, required: bool = True) -> F:
    """``-d/--device SPEC`` (default: ``belay -d``, ``BELAY_DEVICE``, then the one attached board).

    ``required`` is kept for plugins written for earlier versions: a board is found when ``-d`` is left out.
    """
    del required
    return click.option(
        "-d",
        "--device",
        "spec",
        envvar="BELAY_DEVICE",
        show_envvar=True,
        metavar="SPEC",
        help="The board: emu:, exec:COMMAND, a serial port, ws://HOST, ... (default: the one attached).",
    )(func)


def device_option(func: F, *, required: bool = True) -> F:
    """``-d/--device SPEC``, ``--timeout`` and ``--no-soft-reset``; open the board with `board`."""
    func = click.option(
        "--password",
        expose_value=False,
        callback=_remember_password,
        metavar="PASSWORD",
        help="Password of a WebREPL or telnet board (default: BELAY_PASSWORD), as the original belay's.",
    )(func)
    func = click.option(
        "--no-soft-reset",
        is_flag=True,
        expose_value=False,  # the command's signature stays (spec, timeout): `board` reads it
        callback=_remember_no_soft_reset,
        help="Keep the board's state: connect without a soft reset (mpremote's resume).",
    )(func)
    func = click.option(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="Seconds a call (and connecting) may take (default 60; 0 waits forever).",
    )(func)
    return spec_option(func, required=required)


def _remember_no_soft_reset(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        setattr(ctx, NO_SOFT_RESET_ATTR, True)


def _remember_password(ctx: click.Context, _param: click.Parameter, value: Optional[str]) -> None:
    if value is not None:
        setattr(ctx, PASSWORD_ATTR, value)


def _remembered(ctx: click.Context, attr: str) -> Any:
    """What a remembering option set on this command's context or a group's, nearest first (``None``: not given)."""
    here: Optional[click.Context] = ctx
    while here is not None:
        value = getattr(here, attr, None)
        if value is not None:
            return value
        here = here.parent
    return None


def password_given(ctx: click.Context) -> Optional[str]:
    """The ``--password`` given to this command or a group it is in, if any."""
    password: Optional[str] = _remembered(ctx, PASSWORD_ATTR)
    return password


def no_soft_reset_given(ctx: click.Context) -> bool:
    """Whether ``--no-soft-reset`` was given to this command, a group it is in, or ``belay``."""
    return bool(_remembered(ctx, NO_SOFT_RESET_ATTR)) or not board_choice(ctx).soft_reset


def optional_device_option(func: F) -> F:
    """`device_option` for commands that can also work without a board."""
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


def timeout_value(timeout: Optional[float], default: Optional[float] = None) -> Optional[float]:
    """Translate ``--timeout`` (``None``: not given, ``0``: forever) to `Device`'s argument.

    ``default`` is the value when not given (`belay_core.device.DEFAULT_TIMEOUT` unless told).
    """
    from belay_core.device import DEFAULT_TIMEOUT

    if timeout is None:
        return DEFAULT_TIMEOUT if default is None else default
    return None if timeout == 0 else timeout


def board_choice(ctx: Optional[click.Context] = None) -> BoardChoice:
    """The root context's `BoardChoice` (made empty when the command runs outside ``belay``)."""
    ctx = ctx or click.get_current_context()
    meta = ctx.find_root().meta
    choice = meta.get(BOARD_KEY)
    if choice is None:
        spec, timeout, no_soft_reset = meta.get(ROOT_OPTIONS_KEY, (None, None, False))
        choice = meta[BOARD_KEY] = BoardChoice(spec, timeout, not no_soft_reset)
    return choice


def resolve_spec(spec: Optional[str], ctx: Optional[click.Context] = None, *, discover: bool = True) -> Optional[str]:
    """The board a command means: its ``-d``, ``belay -d``, ``BELAY_DEVICE``, else the one attached board.

    Raises
    ------
    click.UsageError
        When no board is given and none (or several, listed) is attached.
    """
    from click.core import ParameterSource

    ctx = ctx or click.get_current_context()
    choice = board_choice(ctx)
    given_here = spec is not None and ctx.get_parameter_source("spec") not in (
        ParameterSource.ENVIRONMENT,
        ParameterSource.DEFAULT,
    )
    if given_here:
        return spec
    for parent in _parents(ctx):  # a group's own -d (belay fs -d SPEC ls)
        value = parent.params.get("spec")
        if value is not None and parent.get_parameter_source("spec") == ParameterSource.COMMANDLINE:
            return str(value)
    if choice.spec is not None:
        return choice.spec
    if spec is not None or os.environ.get("BELAY_DEVICE"):
        return spec or os.environ["BELAY_DEVICE"]
    if not discover:
        return None
    return _discover()


def _parents(ctx: click.Context) -> Iterator[click.Context]:
    parent = ctx.parent
    while parent is not None and parent.parent is not None:  # not the root: its -d is the BoardChoice
        yield parent
        parent = parent.parent


def _discover() -> str:
    from belay_core.plugins import discover_boards, get_plugins

    found = discover_boards(get_plugins())
    if len(found) == 1:
        click.echo(f"Using {found[0]}, the one board attached.", err=True)
        return found[0]
    how = "give -d/--device SPEC (e.g. -d /dev/ttyACM0, -d emu:) or set BELAY_DEVICE"
    if not found:
        raise click.UsageError(f"no board given and none found attached: {how}")
    listed = "".join(f"\n  {spec}" for spec in found)
    raise click.UsageError(f"no board given and {len(found)} boards attached, {how}:{listed}")


@contextmanager
def board(
    spec: Optional[str] = None,
    timeout: Optional[float] = None,
    *,
    follow: bool = False,
    **device_options: Any,
) -> Iterator[Device]:
    """The connected board for a command, opened at first use and shared by the commands chained with ``+``.

    Parameters
    ----------
    spec, timeout
        The command's ``-d`` and ``--timeout`` as click passed them (``None``: not given to the
        command: its group's and ``belay``'s own options, then the defaults, apply). ``--no-soft-reset``
        is read from the context.
    follow
        With no ``--timeout``, calls may take as long as they like (``belay run`` follows its program
        until it ends or Ctrl-C); otherwise the default is `belay_core.device.DEFAULT_TIMEOUT`.
    device_options
        More arguments for `Device`; ``stream_out`` is set for this command on a shared connection.

    Examples
    --------
    >>> @click.command("blink")
    ... @device_option
    ... def blink(spec, timeout):
    ...     with reporting(), board(spec, timeout) as device:
    ...         device("led.toggle()")
    """
    from belay_core.device import Device
    from belay_core.session import DEFAULT

    ctx = click.get_current_context()
    choice = board_choice(ctx)
    resolved = resolve_spec(spec, ctx)
    assert resolved is not None
    for parent in _parents(ctx):  # a group's own --timeout (belay fs --timeout 5 ls)
        if timeout is None:
            timeout = parent.params.get("timeout")
    if timeout is None:
        timeout = choice.timeout
    seconds = None if timeout is None and follow else timeout_value(timeout)
    stream_out = device_options.pop("stream_out", DEFAULT)
    device = choice.devices.get(resolved)
    if device is None:
        soft_reset = not no_soft_reset_given(ctx)
        password = password_given(ctx)
        if password is not None:
            device_options.setdefault("password", password)
        device = Device(resolved, timeout=seconds, soft_reset=soft_reset, stream_out=stream_out, **device_options)
        choice.devices[resolved] = device
        ctx.find_root().call_on_close(device.close)
    else:
        device.timeout = seconds
        device.stream_out = stream_out
    yield device
