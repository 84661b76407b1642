"""Smoke test of the benchmark script: it runs with belay-core alone (no original belay, no mpremote)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "run.py"


def test_bench_quick_prints_a_latency():
    readme = BENCH.parent / "README.md"
    before = readme.read_text()
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--boards", "unix", "--only", "ours"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    labels = (
        "eval 0: median",
        "task add(1, 2): median",
        "generator 1 000 values",
        "put 100 KiB file",
        "sync project: 1",
    )
    for label in labels:
        row = next((line for line in done.stdout.splitlines() if label in line), None)
        assert row is not None, done.stdout
        assert re.search(r"\d+\.\d+", row.split(label, 1)[1]), row
    row = next((line for line in done.stdout.splitlines() if "bytes written per call" in line), "")
    assert re.search(r"\d+", row.split("bytes written per call", 1)[-1]), done.stdout
    row = next((line for line in done.stdout.splitlines() if "unchanged, round trips" in line), "")
    assert re.search(r"\b1\b", row.split("round trips", 1)[-1]), done.stdout  # an unchanged re-sync: one round trip
    for transport in ("exec", "serial pty", "websocket", "telnet"):  # device("0") latency by transport, ours only
        row = next((line for line in done.stdout.splitlines() if f"{transport}: median" in line), "")
        assert re.search(r"\d+\.\d+", row.split("median", 1)[-1]), done.stdout
    for boards in ("1 board", "2 boards"):  # the fleet rows: belay-pytest's suite with pytest -n
        assert re.search(rf"│ {boards}\s+│\s+\d+\.\d+ │\s+\d+\.\d+x │", done.stdout), done.stdout
    assert readme.read_text() == before  # smoke runs never rewrite the published numbers
