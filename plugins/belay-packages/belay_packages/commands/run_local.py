"""``belay run-local`` (what ``belay run --local`` runs): a local MicroPython with the project's dependencies."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import click

from belay_core.commands.console import err_console, reporting
from belay_packages.commands.progress import download_progress


@click.command("run-local", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--with", "with_groups", multiple=True, metavar="GROUP", help="Also add this optional group.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED, metavar="COMMAND...")
def run_local(with_groups: tuple[str, ...], command: tuple[str, ...]) -> None:
    """Run COMMAND... on this computer with the project's dependencies on MICROPYPATH.

    A local MicroPython (the unix port) then imports the dependencies as the board would from /lib:
    a pseudo virtual environment. The exit code is COMMAND's. `belay run --local COMMAND...` is the
    same command.

    \b
    Examples:
      belay run-local micropython main.py
      belay run --local --with dev micropython -m unittest
    """
    sys.exit(_run_local(list(command), with_groups))


def _run_local(command: list[str], with_groups: tuple[str, ...]) -> int:
    from rich.markup import escape

    from belay_packages.manager import Project, prepare_lib

    console = err_console()

    def warn(line: str) -> None:
        console.print(f"[yellow]warning:[/] {escape(line)}")

    executable = shutil.which(command[0])
    if executable is None:
        raise click.UsageError(f"{command[0]!r}: no such command (is a MicroPython unix port on PATH?)")
    with reporting(), tempfile.TemporaryDirectory(prefix="belay-lib-") as lib:
        project = Project.load()
        groups = project.select_groups(with_groups)
        with download_progress(console) as progress, project.context(progress) as context:
            prepare_lib(project, context, groups, Path(lib), warn=warn)
        env = dict(os.environ)
        env["MICROPYPATH"] = os.pathsep.join([".frozen", str(project.root), lib])
        try:
            return subprocess.call([executable, *command[1:]], env=env)
        except KeyboardInterrupt:
            return 130
    return 1  # pragma: no cover - reporting() exits first
