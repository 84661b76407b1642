"""``belay install``: dependencies to ``/lib``, the project package, ``main.py``; then run or reset."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import click

from belay_core.commands.console import err_console, reporting, sync_progress
from belay_core.commands.options import board, device_option, sync_options
from belay_packages.commands.progress import download_progress

if TYPE_CHECKING:
    from belay_core.sync import SyncPlan

LIB_MANIFEST = ".belay-lib"
"""Board file in ``/lib`` listing what ``belay install`` put there (only those are ever removed)."""


def _python_file(ctx: click.Context, param: click.Parameter, value: Optional[Path]) -> Optional[Path]:
    if value is not None and value.suffix != ".py":
        raise click.BadParameter(f"{value} is not a .py file")
    return value


@click.command("install")
@device_option
@click.option("--with", "with_groups", multiple=True, metavar="GROUP", help="Also install this optional group.")
@click.option(
    "--main",
    "main_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    callback=_python_file,
    help="Install this file as /main.py.",
)
@click.option(
    "--run",
    "run_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    callback=_python_file,
    help="Run this file on the board after installing, streaming its output.",
)
@click.option("-f", "--follow", is_flag=True, help="After the reset, run /main.py and stream its output.")
@sync_options
def install(
    spec: Optional[str],
    timeout: Optional[float],
    with_groups: tuple[str, ...],
    main_file: Optional[Path],
    run_file: Optional[Path],
    follow: bool,
    sync_kwargs: dict[str, Any],
) -> None:
    """Install the project on the board exactly as belay.lock says.

    Downloads what the lock pins (when missing from the dependencies folder, checking every
    sha256), syncs the dependency groups to /lib (only files an earlier install put there are ever
    removed), syncs the project package ([tool.belay] name) to /NAME, optionally main.py, then runs
    --run FILE, or soft-resets the board (with --follow, runs /main.py and streams its output).
    Without belay.lock, one is made first; when it disagrees with pyproject.toml, nothing is installed.
    A local (non-develop) dependency edited since belay.lock was written is installed as locked, with
    a warning: belay update NAME takes the change.

    \b
    Examples:
      belay install -d emu:
      belay install -d /dev/ttyUSB0 --with dev --main main.py --follow
    """
    from rich.markup import escape

    from belay_core.errors import FeatureUnavailableError
    from belay_core.sync import sync_owned
    from belay_packages.manager import Project, prepare_lib

    console = err_console()
    with reporting():
        project = Project.load()
        groups = project.select_groups(with_groups)
        with download_progress(console) as progress, project.context(progress) as context:
            staging = tempfile.TemporaryDirectory(prefix="belay-lib-")
            staged = prepare_lib(
                project,
                context,
                groups,
                Path(staging.name),
                report=lambda line: console.print(f"  {line}", markup=False),
                warn=lambda line: console.print(f"[yellow]warning:[/] {escape(line)}"),
            )
        with staging, board(spec, timeout) as device:
            flat = device.implementation.platform == "microbit"
            name = project.config.name
            package_folder = project.root / name if name else None
            if flat and (staged or (package_folder is not None and package_folder.is_dir())):
                raise FeatureUnavailableError(
                    f"{spec}: the board's filesystem is flat (no folders), so it cannot hold /lib or a package "
                    "folder; copy single files with belay fs put or belay sync"
                )
            with sync_progress(console, "/lib") as report:
                if staged or not flat:
                    plan = sync_owned(device, staging.name, "/lib", LIB_MANIFEST, progress=report, **sync_kwargs)
                    console.print(f"/lib: {_summary(plan)} ({', '.join(groups)})")
            if name and package_folder is not None:
                folder = package_folder
                if folder.is_dir():
                    with sync_progress(console, f"/{name}") as report:
                        plan = device.sync(
                            folder,
                            dst=f"/{name}",
                            keep=[],
                            ignore=project.config.ignore,
                            progress=report,
                            **sync_kwargs,
                        )
                    console.print(f"/{name}: {_summary(plan)}")
                else:
                    console.print(f"[yellow]no package folder {folder} ([tool.belay] name): skipped[/]")
            if main_file is not None:
                device.put(main_file, "/main.py")
                console.print(f"/main.py: {main_file}")
            if run_file is not None:
                device(run_file.read_text(encoding="utf-8"), timeout=None)
                return
            device.soft_reset()
            if follow:
                if not device.exists("/main.py"):
                    console.print("[yellow]no /main.py on the board: nothing to follow[/]")
                    return
                console.print("[dim]running /main.py (Ctrl-C to stop)[/]")
                device("exec(open('/main.py').read(),{'__name__':'__main__'})", timeout=None)
    sys.stdout.flush()


def _summary(plan: SyncPlan) -> str:
    return f"{len(plan.upload)} uploaded, {len(plan.unchanged)} unchanged, {len(plan.delete)} deleted"
