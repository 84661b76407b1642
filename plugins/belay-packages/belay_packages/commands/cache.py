"""``belay cache``: the download cache."""

from __future__ import annotations

import json
import time

import click

from belay_core.commands.console import err_console, human_size, plural


@click.group("cache")
def cache() -> None:
    """The download cache (package-index files, pinned GitHub/GitLab files and archives).

    It lives in the platform's user cache directory; BELAY_CACHE_DIR moves it.
    """


_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON (shape: docs/project.md).")


@cache.command("list")
@_JSON
def list_(as_json: bool) -> None:
    """List cached items: size, age and where each came from."""
    from rich.console import Console
    from rich.table import Table

    from belay_packages.cache import Cache

    entries = Cache().entries()
    if as_json:
        rows = [{"source": e.key, "size": e.size, "stored": e.stored} for e in entries]
        click.echo(json.dumps(rows, indent=2))
        return
    if not entries:
        err_console().print("the cache is empty")
        return
    table = Table("size", "age", "source", box=None)
    now = time.time()
    for entry in entries:
        age = now - entry.stored
        when = (
            f"{age / 86400:.0f} d" if age >= 86400 else f"{age / 3600:.0f} h" if age >= 3600 else f"{age / 60:.0f} min"
        )
        table.add_row(human_size(entry.size), when, entry.key)
    Console(highlight=False).print(table)


@cache.command("info")
@_JSON
def info(as_json: bool) -> None:
    """Show where the cache is, how many items it holds and their size."""
    from belay_packages.cache import Cache

    store = Cache()
    entries = store.entries()
    if as_json:
        summary = {"location": str(store.root), "items": len(entries), "size": sum(e.size for e in entries)}
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(f"location: {store.root}")
    click.echo(f"items:    {len(entries)}")
    click.echo(f"size:     {human_size(sum(e.size for e in entries))}")


@cache.command("clear")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def clear(yes: bool) -> None:
    """Remove everything from the cache (it fills again as needed)."""
    from belay_packages.cache import Cache

    store = Cache()
    count = len(store.entries())
    if count == 0:
        err_console().print("the cache is empty")
        return
    if not yes:
        click.confirm(f"Remove {plural(count, 'cached item')} ({store.root})?", abort=True)
    removed = store.clear()
    err_console().print(f"removed {plural(removed, 'item')}")
