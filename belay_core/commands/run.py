"""``belay run``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from belay_core.commands.common import device_option, reporting, timeout_value


@click.command("run")
@device_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def run(spec: str, timeout: Optional[float], file: Path) -> None:
    """Run a local Python FILE on the board, streaming its output.

    \b
    Example:
      belay run -d emu: blink.py
    """
    from belay_core.device import Device

    source = file.read_text(encoding="utf-8")
    with reporting(), Device(spec, timeout=timeout_value(timeout)) as device:
        device(source if not source.strip() or "\n" in source.strip() else source + "\n")
