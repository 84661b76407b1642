"""``belay run``: a local file on the board, or (``--local``) a local MicroPython with the dependencies.

``--local`` is the package manager's: it hands over to the ``run-local`` command that belay-packages
registers, found through the plugin registry (core never imports the plugin). Without belay-packages
it says in one line to install it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from belay_core.commands.console import reporting
from belay_core.commands.options import board, optional_device_option


@click.command("run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@optional_device_option
@click.option(
    "--local",
    is_flag=True,
    help="Run COMMAND... on this computer with MICROPYPATH set to the project's installed dependencies "
    "(needs belay-packages).",
)
@click.option("--with", "with_groups", multiple=True, metavar="GROUP", help="With --local: add this optional group.")
@click.argument("args", nargs=-1, required=True, type=click.UNPROCESSED, metavar="FILE | --local COMMAND...")
@click.pass_context
def run(
    ctx: click.Context,
    spec: Optional[str],
    timeout: Optional[float],
    local: bool,
    with_groups: tuple[str, ...],
    args: tuple[str, ...],
) -> None:
    """Run a local Python FILE on the board, streaming its output.

    The file runs as a program, as the firmware runs one; tracebacks point at its lines, and a
    sys.exit(CODE) on the board ends this command with CODE. The command follows the program until it
    ends or Ctrl-C (which interrupts the board): a main loop runs as long as it likes unless
    --timeout is given.

    With --local, run COMMAND... here instead, with MICROPYPATH set so a local MicroPython (the unix
    port) imports the project's dependencies as the board would from /lib: a pseudo virtual
    environment. The exit code is COMMAND's. --local is belay-packages' run-local command.

    \b
    Examples:
      belay run -d emu: blink.py
      belay run --local micropython main.py
      belay run --local --with dev micropython -m unittest
    """
    if local:
        from belay_core.cli import plugin_command

        ctx.invoke(plugin_command("run-local", "run --local"), with_groups=with_groups, command=args)
        return
    if len(args) != 1:
        raise click.UsageError("give one FILE to run on the board (or --local COMMAND...)")
    file = Path(args[0])
    if not file.is_file():
        raise click.BadParameter(f"{file}: no such file", param_hint="FILE")
    from belay_core.tracebacks import SourceOrigin

    source = file.read_text(encoding="utf-8")
    with reporting(), board(spec, timeout, follow=True) as device:
        # Run as a program, as the firmware runs a file: a file that is one expression prints nothing.
        device.run_statements(source, origin=SourceOrigin(str(file), 1))
