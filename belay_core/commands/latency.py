"""``belay latency``."""

from __future__ import annotations

import statistics
import time
from typing import Optional

import click

from belay_core.commands.console import reporting
from belay_core.commands.options import board, device_option


@click.command("latency")
@device_option
@click.option("-n", "count", type=click.IntRange(2, 100_000), default=100, show_default=True, help="Calls to time.")
def latency(spec: Optional[str], timeout: Optional[float], count: int) -> None:
    """Time COUNT round trips of device("0") and print min/median/max/stdev in ms."""
    from rich.progress import track

    with reporting(), board(spec, timeout) as device:
        device("0")
        times = []
        for _ in track(range(count), description="calling", transient=True):
            start = time.perf_counter()
            device("0")
            times.append((time.perf_counter() - start) * 1000)
    click.echo(
        f"{count} calls: min {min(times):.3f} ms, median {statistics.median(times):.3f} ms, "
        f"max {max(times):.3f} ms, stdev {statistics.stdev(times):.3f} ms"
    )
