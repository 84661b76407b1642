"""``belay plugins``."""

from __future__ import annotations

import click


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plugins(as_json: bool) -> None:
    """List plugins: distribution, version, what each provides, and whether it loaded."""
    import json

    from belay_core.hookspecs import KINDS
    from belay_core.plugins import get_plugins

    infos = list(get_plugins().infos.values())
    if as_json:
        click.echo(json.dumps([info.as_dict() for info in infos], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Belay plugins")
    for column in ("name", "distribution", "version", "provides", "status"):
        table.add_column(column)
    for info in infos:
        provides = "\n".join(f"{kind}: {', '.join(info.provides[kind])}" for kind in KINDS if info.provides.get(kind))
        status = {"ok": "[green]ok[/]", "failed": "[red]failed[/]", "blocked": "[yellow]blocked[/]"}[info.status]
        if info.error:
            status += f": {info.error}"
        table.add_row(info.name, info.distribution or "-", info.version or "-", provides or "-", status)
    Console().print(table)
