"""``belay exec``."""

from __future__ import annotations

from typing import Optional

import click

from belay_core.commands.console import reporting
from belay_core.commands.options import board, device_option


@click.command("exec")
@device_option
@click.argument("code")
def exec_(spec: Optional[str], timeout: Optional[float], code: str) -> None:
    """Run CODE on the board; print an expression's value.

    \b
    Example:
      belay exec -d emu: "import sys; print(sys.platform)"
      belay exec -d emu: "1 + 1"
    """
    with reporting(), board(spec, timeout) as device:
        result = device(code)
        if result is not None:
            click.echo(repr(result))
