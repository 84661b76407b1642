"""``belay fs``: files on the board (ls, cat, get, put, cp, rm, mkdir, rmdir, touch, sha256sum, tree, df)."""

from __future__ import annotations

import contextlib
import functools
import posixpath
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar

import click

from belay_core.commands.console import bytes_progress, human_size, plural, reporting
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


def _board_path(_ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
    """Board paths may carry mpremote's ``:`` mark (``:main.py``, ``:`` for the current directory)."""
    if isinstance(value, tuple):
        return tuple(_strip(v) for v in value)
    return None if value is None else _strip(value)


def _strip(path: str) -> str:
    if path.startswith(":"):
        return path[1:] or "."
    return path


def _console() -> Any:
    from rich.console import Console

    return Console()


_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON (shapes: docs/files.md).")


def _entry(entry: Any) -> dict[str, Any]:
    return {"path": entry.path, "name": entry.name, "type": "dir" if entry.is_dir else "file", "size": entry.size}


def _print_json(value: Any) -> None:
    import json

    click.echo(json.dumps(value, indent=2))


@fs.command("ls")
@_board_options
@click.argument("path", default="/", callback=_board_path)
@_JSON
@click.pass_context
def ls(ctx: click.Context, path: str, as_json: bool) -> None:
    """List directory PATH on the board (default /): sizes and names; folders end with /. A file lists itself."""
    from rich.table import Table

    from belay_core.files import FileInfo

    with _device(ctx) as device:
        if device.is_dir(path):
            entries = device.listdir(path)
        else:  # a file lists itself, as ls does (a missing path gives the board's error)
            entries = [FileInfo(path, posixpath.basename(path.rstrip("/")) or path, False, device.size(path))]
    if as_json:
        _print_json([_entry(e) for e in entries])
        return
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
@click.argument("path", default="/", callback=_board_path)
@_JSON
@click.pass_context
def tree(ctx: click.Context, path: str, as_json: bool) -> None:
    """Show everything under PATH on the board (default /) as a tree, with sizes."""
    from rich.markup import escape
    from rich.tree import Tree

    with _device(ctx) as device:
        entries = device.walk(path)
    if as_json:
        _print_json([_entry(e) for e in entries])
        return
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
    click.echo(f"{plural(sum(e.is_dir for e in entries), 'directory', 'directories')}, {plural(files, 'file')}")


@fs.command("cat")
@_board_options
@click.argument("path", callback=_board_path)
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
    click.echo(f"{verb} {plural(count, 'file')}, {human_size(size)} in {seconds:.2f} s", err=True)


@fs.command("get")
@_board_options
@click.argument("remote", callback=_board_path)
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
@click.argument("remote", default="/", callback=_board_path)
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
@click.argument("paths", nargs=-1, required=True, callback=_board_path)
@click.pass_context
def rm(ctx: click.Context, recursive: bool, paths: tuple[str, ...]) -> None:
    """Remove files (and, with -r, directories) PATHS on the board."""
    with _device(ctx) as device:
        for path in paths:
            device.remove(path, recursive=recursive)


@fs.command("mkdir")
@_board_options
@click.option("-p", "--parents", is_flag=True, help="Make missing parents; an existing directory is fine.")
@click.argument("paths", nargs=-1, required=True, callback=_board_path)
@click.pass_context
def mkdir(ctx: click.Context, parents: bool, paths: tuple[str, ...]) -> None:
    """Make directories PATHS on the board."""
    with _device(ctx) as device:
        for path in paths:
            device.mkdir(path, parents=parents)


@fs.command("df")
@_board_options
@_JSON
@click.pass_context
def df(ctx: click.Context, as_json: bool) -> None:
    """Show the size, use and free space of the board's file system."""
    from rich.table import Table

    with _device(ctx) as device:
        usage = device.df()
    if as_json:
        _print_json({"total": usage.total, "used": usage.used, "free": usage.free})
        return
    table = Table(box=None)
    for name in ("size", "used", "free", "use%"):
        table.add_column(name, justify="right")
    percent = f"{100 * usage.used / usage.total:.0f}%" if usage.total else "-"
    table.add_row(human_size(usage.total), human_size(usage.used), human_size(usage.free), percent)
    _console().print(table)


@fs.command("cp")
@_board_options
@click.option("-r", "--recursive", is_flag=True, help="Copy folders and everything in them.")
@click.argument("sources", nargs=-1, required=True)
@click.argument("destination")
@click.pass_context
def cp(ctx: click.Context, recursive: bool, sources: tuple[str, ...], destination: str) -> None:
    """Copy SOURCES to DESTINATION; board paths start with ':' (mpremote's mark).

    Host to board, board to host, or board to board. As with cp, a source goes into DESTINATION when
    that is an existing folder (or ends with /), else it becomes DESTINATION; folders need -r.

    \b
    Examples:
      belay fs cp main.py :                 # into the board's current directory
      belay fs cp -r ./src :lib             # the folder src becomes /lib, or goes into an existing /lib
      belay fs cp :data.csv .               # from the board
    """
    to_board = destination.startswith(":")
    if not to_board and not any(source.startswith(":") for source in sources):
        raise click.UsageError("mark the board's paths with ':' (e.g. ':main.py', ':' for its current directory)")
    with _device(ctx) as device:
        started = time.monotonic()
        count = size = 0
        target = _strip(destination)
        into = target.endswith("/") or (device.is_dir(target) if to_board else Path(target).is_dir())
        if len(sources) > 1 and not into:
            raise click.UsageError(f"copying several sources needs DESTINATION to be a folder: {destination!r}")
        for source in sources:
            from_board = source.startswith(":")
            path = _strip(source)
            name = posixpath.basename(path.rstrip("/")) if from_board else Path(path).name
            is_dir = device.is_dir(path) if from_board else Path(path).is_dir()
            if is_dir and not recursive:
                raise click.UsageError(f"{source!r} is a folder: copy it with -r")
            place = (posixpath.join(target, name) if to_board else str(Path(target) / name)) if into else target
            if not from_board:
                files = [Path(path)] if not is_dir else [f for f in Path(path).rglob("*") if f.is_file()]
                with _progress(sum(f.stat().st_size for f in files), "put") as progress:
                    written = device.put(path, place, progress=progress)
                count, size = count + len(written), size + sum(f.stat().st_size for f in files)
            elif not to_board:
                got = device.get(path, place)
                count, size = count + len(got), size + sum(f.stat().st_size for f in got)
            else:  # on the board: through the host, file by file
                pairs = [(path, place, False)]
                if is_dir:
                    below = device.walk(path)
                    pairs = [(path, place, True)]
                    pairs += [(e.path, posixpath.join(place, posixpath.relpath(e.path, path)), e.is_dir) for e in below]
                for board_from, board_to, folder in pairs:
                    if folder:
                        device.mkdir(board_to, parents=True)
                        continue
                    data = device.read_bytes(board_from)
                    device.write_bytes(board_to, data)
                    count, size = count + 1, size + len(data)
    _summary("copied", count, size, started)


@fs.command("touch")
@_board_options
@click.argument("paths", nargs=-1, required=True, callback=_board_path)
@click.pass_context
def touch(ctx: click.Context, paths: tuple[str, ...]) -> None:
    """Make empty files PATHS on the board; existing files are left as they are."""
    with _device(ctx) as device:
        for path in paths:
            device.files.touch(path)


@fs.command("rmdir")
@_board_options
@click.argument("paths", nargs=-1, required=True, callback=_board_path)
@click.pass_context
def rmdir(ctx: click.Context, paths: tuple[str, ...]) -> None:
    """Remove empty directories PATHS on the board."""
    with _device(ctx) as device:
        for path in paths:
            device.files.rmdir(path)


@fs.command("sha256sum")
@_board_options
@click.argument("paths", nargs=-1, required=True, callback=_board_path)
@click.pass_context
def sha256sum(ctx: click.Context, paths: tuple[str, ...]) -> None:
    """Print the SHA-256 of board files PATHS, computed on the board (as sha256sum prints them)."""
    with _device(ctx) as device:
        for path in paths:
            click.echo(f"{device.files.sha256(path)}  {path}")
