"""Board control: ``belay reset``, ``belay soft-reset``, ``belay rtc`` and ``belay edit``."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Optional

import click

from belay_core.commands.console import reporting
from belay_core.commands.options import board, device_option


@click.command("reset")
@device_option
def reset(spec: Optional[str], timeout: Optional[float]) -> None:
    """Hard-reset the board (machine.reset(), as its reset button) and reconnect.

    An emulated or exec: board is started afresh. RAM is lost, files stay.

    \b
    Example:
      belay -d /dev/ttyACM0 reset + exec "import machine; print(machine.reset_cause())"
    """
    with reporting(), board(spec, timeout) as device:
        device.hard_reset()
        click.echo(f"Reset {device.spec}.", err=True)


@click.command("soft-reset")
@device_option
def soft_reset(spec: Optional[str], timeout: Optional[float]) -> None:
    """Soft-reset the board: a fresh interpreter and heap, the same files."""
    with reporting(), board(spec, timeout) as device:
        device.soft_reset()
        click.echo(f"Soft-reset {device.spec}.", err=True)


def _parse_when(value: str) -> Optional[datetime]:
    if value == "now":
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date and time like 2026-12-01T08:30:00 (or 'now')", param_hint="--set"
        ) from None


@click.command("rtc")
@device_option
@click.option(
    "--set",
    "set_to",
    is_flag=False,
    flag_value="now",
    default=None,
    metavar="[WHEN]",
    help="Set the board's clock: to the host's local time, or to WHEN (ISO 8601).",
)
def rtc(spec: Optional[str], timeout: Optional[float], set_to: Optional[str]) -> None:
    """Show the board's date and time, or set its real-time clock with --set.

    \b
    Examples:
      belay rtc -d /dev/ttyACM0
      belay rtc -d /dev/ttyACM0 --set
      belay rtc -d /dev/ttyACM0 --set 2026-12-01T08:30:00
    """
    when = None if set_to is None else _parse_when(set_to)
    with reporting(), board(spec, timeout) as device:
        if set_to is not None:
            device.set_rtc(when)
        click.echo(device.rtc().isoformat(sep=" "))


@click.command("edit")
@device_option
@click.argument("path")
@click.option("--editor", metavar="COMMAND", help="The editor (default: $VISUAL, else $EDITOR, else vi).")
def edit(spec: Optional[str], timeout: Optional[float], path: str, editor: Optional[str]) -> None:
    """Edit board file PATH in the host's editor: fetched, opened, written back if changed.

    A PATH that does not exist on the board starts empty and is made when saved with content.

    \b
    Example:
      EDITOR=nano belay edit -d /dev/ttyACM0 :main.py
    """
    from belay_core.files import BoardFileNotFoundError

    remote = path[1:] if path.startswith(":") else path
    with reporting(), board(spec, timeout, stream_out=None) as device:
        try:
            before: Optional[bytes] = device.files.read_bytes(remote)
        except BoardFileNotFoundError:
            before = None
        suffix = Path(remote).suffix or ".txt"
        with tempfile.TemporaryDirectory(prefix="belay-edit-") as folder:
            local = Path(folder) / f"{Path(remote).stem or 'file'}{suffix}"
            local.write_bytes(before or b"")
            click.edit(filename=str(local), editor=editor or os.environ.get("VISUAL") or os.environ.get("EDITOR"))
            after = local.read_bytes()
        if after == (before or b"") and (before is not None or not after):
            click.echo(f"{remote}: unchanged", err=True)
            return
        device.files.write_bytes(remote, after)
        click.echo(f"{remote}: written ({len(after)} bytes)", err=True)
