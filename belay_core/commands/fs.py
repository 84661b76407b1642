"""``belay fs``: files on the board (ls, cat, get, put, rm, mkdir, tree, df)."""

from __future__ import annotations

import contextlib
import functools
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar

import click

from belay_core.commands.console import bytes_progress, human_size, reporting
from belay_core.commands.options import board, device_option

if TYPE_CHECKING:
    from belay_core.device import Device

F = TypeVar("F", bound=Callable[..., Any])


@click.group("fs")
@device_option
@click.pass_context
def fs(ctx: click.Context, spec: Optional[str], timeout: Optional[float]) -> None:
    """Files on the board: list, show, copy both ways, remove, make folders, measure space.

    Board paths are absolute (``/lib/x.py``) or relative to the board's current directory; the
    board options go before or after the file command (``belay fs -d SPEC ls``, ``belay fs ls -d SPEC``).
    """


def _board_options(func: F) -> F:
    """The board options on a file command too; `_device` reads them from the context."""

    @functools.wraps(func)
    def wrapper(*args: Any, spec: Optional[str], timeout: Optional[float], **kw: Any) -> Any:
        return func(*args, **kw)

    return device_option(wrapper)  # type: ignore[return-value]


@contextlib.contextmanager
def _device(ctx: click.Context) -> Iterator[Device]:
    with _errors(), board(ctx.params.get("spec"), ctx.params.get("timeout"), stream_out=None) as device:
        yield device


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """`reporting`, plus host-side file errors (a missing local file) as one line and exit code 2."""
    from belay_core.files import BoardPathError

    with reporting():
        try:
            yield
        except BoardPathError as exc:
            click.secho(f"Error: {exc}", fg="red", err=True)
            sys.exit(2)
        except OSError as exc:
            if type(exc).__module__ == "belay_core.errors":  # a board OSError: reporting shows its traceback
                raise
            click.secho(f"Error: {exc}", fg="red", err=True)
            sys.exit(2)


def _console() -> Any:
    from rich.console import Console

    return Console()


@fs.command("ls")
@_board_options
@click.argument("path", default="/")
@click.pass_context
def ls(ctx: click.Context, path: str) -> None:
    """List directory PATH on the board (default /): sizes and names; folders end with /."""
    from rich.table import Table

    with _device(ctx) as device:
        entries = device.listdir(path)
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(justify="right")
    table.add_column()
    for entry in entries:
        if entry.is_dir:
            table.add_row("", f"[bold blue]{entry.name}/[/]")
        else:
            table.add_row(str(entry.size), entry.name)
    _console().print(table)


@fs.command("tree")
@_board_options
@click.argument("path", default="/")
@click.pass_context
def tree(ctx: click.Context, path: str) -> None:
    """Show everything under PATH on the board (default /) as a tree, with sizes."""
    from rich.markup import escape
    from rich.tree import Tree

    with _device(ctx) as device:
        entries = device.walk(path)
    root = Tree(f"[bold blue]{escape(path)}[/]")
    nodes: dict[str, Tree] = {}
    prefix = path.rstrip("/")
    for entry in entries:
        parent_path = entry.path.rsplit("/", 1)[0] if "/" in entry.path else ""
        parent = nodes.get(parent_path, root) if parent_path != prefix else root
        if entry.is_dir:
            nodes[entry.path] = parent.add(f"[bold blue]{escape(entry.name)}/[/]")
        else:
            parent.add(f"{escape(entry.name)} [dim]({human_size(entry.size)})[/]")
    files = sum(not e.is_dir for e in entries)
    _console().print(root)
    click.echo(f"{sum(e.is_dir for e in entries)} directories, {files} files")


@fs.command("cat")
@_board_options
@click.argument("path")
@click.pass_context
def cat(ctx: click.Context, path: str) -> None:
    """Print file PATH from the board (bytes as they are)."""
    with _device(ctx) as device:
        data = device.read_bytes(path)
    click.echo(data, nl=False)


@contextlib.contextmanager
def _progress(total: int, verb: str) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar over ``total`` bytes (shown on a terminal only), fed by ``progress(path, done, size)``."""
    from rich.console import Console

    seen: dict[str, int] = {}
    with bytes_progress(Console(stderr=True), "{task.description}") as bar:
        task = bar.add_task(verb, total=total or None)

        def progress(path: str, done: int, size: int) -> None:
            advance = done - seen.get(path, 0)
            seen[path] = done
            bar.update(task, advance=advance, description=f"{verb} {path}")

        yield progress


def _summary(verb: str, count: int, size: int, started: float) -> None:
    seconds = time.monotonic() - started
    plural = "" if count == 1 else "s"
    click.echo(f"{verb} {count} file{plural}, {human_size(size)} in {seconds:.2f} s", err=True)


@fs.command("get")
@_board_options
@click.argument("remote")
@click.argument("local", default=".", type=click.Path(path_type=Path))
@click.pass_context
def get(ctx: click.Context, remote: str, local: Path) -> None:
    """Copy file or folder REMOTE from the board to LOCAL (default: into the current folder).

    A folder's contents go into LOCAL; a file goes into LOCAL when it is a folder, else to LOCAL.
    """
    with _device(ctx) as device:
        started = time.monotonic()
        sizes = (
            {e.path: e.size for e in device.walk(remote)} if device.is_dir(remote) else {remote: device.size(remote)}
        )
        with _progress(sum(sizes.values()), "get") as progress:
            written = device.get(remote, local, progress=progress)
    _summary("got", len(written), sum(p.stat().st_size for p in written), started)


@fs.command("put")
@_board_options
@click.argument("local", type=click.Path(exists=True, path_type=Path))
@click.argument("remote", default="/")
@click.pass_context
def put(ctx: click.Context, local: Path, remote: str) -> None:
    """Copy file or folder LOCAL to REMOTE on the board (default /), making folders as needed.

    A folder's contents go into REMOTE; a file goes into REMOTE when it is a directory (or ends with /),
    else to REMOTE.
    """
    files = [local] if local.is_file() else [p for p in local.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    with _device(ctx) as device:
        started = time.monotonic()
        with _progress(total, "put") as progress:
            written = device.put(local, remote, progress=progress)
    _summary("put", len(written), total, started)


@fs.command("rm")
@_board_options
@click.option("-r", "--recursive", is_flag=True, help="Remove directories and everything in them.")
@click.argument("paths", nargs=-1, required=True)
@click.pass_context
def rm(ctx: click.Context, recursive: bool, paths: tuple[str, ...]) -> None:
    """Remove files (and, with -r, directories) PATHS on the board."""
    with _device(ctx) as device:
        for path in paths:
            device.remove(path, recursive=recursive)


@fs.command("mkdir")
@_board_options
@click.option("-p", "--parents", is_flag=True, help="Make missing parents; an existing directory is fine.")
@click.argument("paths", nargs=-1, required=True)
@click.pass_context
def mkdir(ctx: click.Context, parents: bool, paths: tuple[str, ...]) -> None:
    """Make directories PATHS on the board."""
    with _device(ctx) as device:
        for path in paths:
            device.mkdir(path, parents=parents)


@fs.command("df")
@_board_options
@click.pass_context
def df(ctx: click.Context) -> None:
    """Show the size, use and free space of the board's file system."""
    from rich.table import Table

    with _device(ctx) as device:
        usage = device.df()
    table = Table(box=None)
    for name in ("size", "used", "free", "use%"):
        table.add_column(name, justify="right")
    percent = f"{100 * usage.used / usage.total:.0f}%" if usage.total else "-"
    table.add_row(human_size(usage.total), human_size(usage.used), human_size(usage.free), percent)
    _console().print(table)
