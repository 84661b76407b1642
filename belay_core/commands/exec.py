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
    """Run CODE on the board; an expression's value is printed as the board's REPL shows it (its repr).

    \b
    Example:
      belay exec -d emu: "import sys; print(sys.platform)"
      belay exec -d emu: "1 + 1"
      belay exec -d emu: "object()"          # <object>, as the board's REPL prints it
    """
    from belay_core.source import is_expression

    with reporting(), board(spec, timeout) as device:
        if not is_expression(code):
            device.run_statements(code)
            return
        # As the REPL does: the board prints its own repr, so any object shows, not only plain values.
        shown = f"__belay_v=({code}\n)\nif __belay_v is not None:print(repr(__belay_v))\ndel __belay_v\n"
        device.run_statements(shown)
