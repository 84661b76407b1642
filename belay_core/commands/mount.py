"""``belay mount``: a host folder as a board directory for the commands chained after it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from belay_core.commands.console import reporting
from belay_core.commands.options import board, device_option


@click.command("mount")
@device_option
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--mountpoint", default="/remote", show_default=True, help="Where the folder appears on the board.")
@click.option("--readonly", is_flag=True, help="The board may read the folder, not change it.")
@click.option("--no-chdir", is_flag=True, help="Keep the board's current directory (default: the mount point).")
@click.pass_context
def mount(
    ctx: click.Context,
    spec: Optional[str],
    timeout: Optional[float],
    folder: Path,
    mountpoint: str,
    readonly: bool,
    no_chdir: bool,
) -> None:
    """Mount host FOLDER on the board for the commands chained after it, as mpremote's mount.

    The board reads and writes FOLDER's files over the same line while those commands run: imports,
    open() and os.listdir() work on it, and it is the board's current directory. The mount lasts as
    long as the connection, so chain the commands that use it with '+'.

    \b
    Examples:
      belay -d /dev/ttyACM0 mount ./src + run main.py
      belay -d emu: mount . + exec "import main"
    """
    from belay_core.cli import COMMANDS_AFTER

    if not ctx.find_root().meta.get(COMMANDS_AFTER):
        raise click.UsageError(
            "a mount lasts as long as the connection: chain the commands that use it, "
            "e.g. belay -d SPEC mount ./src + run main.py"
        )
    with reporting(), board(spec, timeout) as device:
        device.mount(folder, mountpoint, readonly=readonly, chdir=not no_chdir)
        click.echo(f"Mounted {folder} at {mountpoint}.", err=True)
