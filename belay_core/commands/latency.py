"""``belay latency``: round trips of a tiny call, as statistics, each one, CSV or JSON."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Optional

import click

from belay_core.commands.console import reporting
from belay_core.commands.options import board, device_option


@click.command("latency")
@device_option
@click.option(
    "-n",
    "-c",
    "--count",
    "count",
    type=click.IntRange(2, 100_000),
    default=100,
    show_default=True,
    help="Calls to time.",
)
@click.option("-v", "--verbose", is_flag=True, help="Also print each call's time.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write each call's time to this CSV file."
)
@click.option(
    "--with-timing/--without-timing",
    "-t",
    default=True,
    show_default=True,
    help="With the board-clock synchronisation results carry (the original belay's switch).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the statistics and each time as JSON.")
def latency(
    spec: Optional[str],
    timeout: Optional[float],
    count: int,
    verbose: bool,
    output: Optional[Path],
    with_timing: bool,
    as_json: bool,
) -> None:
    """Time COUNT round trips of device("0") and print min/median/max/stdev in ms.

    \b
    Examples:
      belay latency -d emu: -n 200
      belay latency -d /dev/ttyACM0 -c 50 -v -o times.csv
    """
    from rich.progress import track

    with reporting(), board(spec, timeout, auto_sync_time=with_timing) as device:
        device("0")
        times = []
        for _ in track(range(count), description="calling", transient=True, disable=verbose or as_json):
            start = time.perf_counter()
            device("0")
            times.append((time.perf_counter() - start) * 1000)
            if verbose and not as_json:
                click.echo(f"  {len(times):3d}: {times[-1]:7.3f} ms")
    if output is not None:
        import csv

        with output.open("w", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(["latency_ms"])  # the original belay's column
            writer.writerows([f"{ms:.3f}"] for ms in times)
    stats = {
        "count": count,
        "min_ms": min(times),
        "median_ms": statistics.median(times),
        "mean_ms": statistics.mean(times),
        "max_ms": max(times),
        "stdev_ms": statistics.stdev(times),
    }
    if as_json:
        import json

        click.echo(json.dumps({**stats, "times_ms": times}, indent=2))
        return
    click.echo(
        f"{count} calls: min {stats['min_ms']:.3f} ms, median {stats['median_ms']:.3f} ms, "
        f"max {stats['max_ms']:.3f} ms, stdev {stats['stdev_ms']:.3f} ms"
    )
