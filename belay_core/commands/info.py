"""``belay info``."""

from __future__ import annotations

from typing import Optional

import click

from belay_core.commands.console import reporting
from belay_core.commands.options import board, device_option


@click.command("info")
@device_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(spec: Optional[str], timeout: Optional[float], as_json: bool) -> None:
    """Show the board's firmware, version, platform, native arch and emitters."""
    import json

    from attrs import asdict

    with reporting(), board(spec, timeout) as device:
        impl = device.implementation
    if as_json:
        click.echo(json.dumps(asdict(impl), indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(show_header=False, box=None)
    table.add_row("implementation", impl.name)
    table.add_row("version", ".".join(map(str, impl.version)))
    table.add_row("platform", impl.platform)
    table.add_row("arch", impl.arch or "-")
    table.add_row("emitters", ", ".join(impl.emitters) or "-")
    mpy = "-" if impl.mpy_version is None else f"{impl.mpy_version}.{impl.mpy_sub_version}"
    table.add_row("mpy", mpy)
    Console().print(table)
