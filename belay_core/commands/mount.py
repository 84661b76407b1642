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
    """Mount host FOLDER on the board, as mpremote's mount: for the commands chained after it, or the REPL.

    The board reads and writes FOLDER's files over the same line while those commands run: imports,
    open() and os.listdir() work on it, and it is the board's current directory. The mount lasts as
    long as the connection: chain the commands that use it with '+'; as the last command, mount opens
    the board's REPL with the folder served (Ctrl-] exits).

    \b
    Examples:
      belay -d /dev/ttyACM0 mount ./src + run main.py
      belay -d emu: mount . + exec "import main"
      belay -d /dev/ttyACM0 mount .              # then the REPL: >>> import main
    """
    from belay_core.cli import COMMANDS_AFTER

    with reporting(), board(spec, timeout) as device:
        device.mount(folder, mountpoint, readonly=readonly, chdir=not no_chdir)
        if ctx.find_root().meta.get(COMMANDS_AFTER):
            click.echo(f"Mounted {folder} at {mountpoint}.", err=True)
            return
        # The last command: the board's REPL, with the folder served, as mpremote's mount does.
        click.echo(f"Mounted {folder} at {mountpoint}. The board's REPL; Ctrl-] exits.", err=True)
        device.terminal()
