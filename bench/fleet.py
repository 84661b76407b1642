"""The fleet rows of the benchmark: one suite of board tests on 1 board, then on N boards with pytest -n N.

The suite is `TESTS` tests, each a short exchange with its board and `BOARD_WAIT_MS` of waiting on the board
(``time.sleep_ms``): what a hardware test does while a sensor settles or a motor turns, the part a fleet
runs side by side. One board runs it as users would, ``pytest --belay-device SPEC``; N boards run it with
``pytest -n N --belay-fleet FILE`` (pytest-xdist: one worker per board). Wall time of the whole ``pytest``
command, process start to exit, median of ``runs``; beside it, the same command on a suite of one test that
uses no board (pytest and its workers starting and stopping, which the boards cannot share). Neither the
original belay nor mpremote has a fleet, so there is nothing to compare with but the one board.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TESTS = 48
BOARD_WAIT_MS = 250

SUITE = f"""
import pytest

@pytest.mark.parametrize("n", range(TESTS))
def test_board(belay_device, n):
    assert belay_device(f"{{n}} * 2") == n * 2
    belay_device("time.sleep_ms({BOARD_WAIT_MS})")
    assert belay_device("sum(range(100))") == 4950
"""


def _run(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"the fleet suite failed ({' '.join(args)}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed


def measure_fleet(
    sizes: list[int], runs: int, tests: int = TESTS, board: str = "unix"
) -> tuple[list[str], list[list[str]]]:
    """The fleet table: header and one row per fleet size, with the speed-up over one board."""
    with tempfile.TemporaryDirectory(prefix="belay-fleet-bench-") as tmp:
        root = Path(tmp)
        (root / "suite").mkdir()
        (root / "suite" / "test_suite.py").write_text(SUITE.replace("TESTS", str(tests)))
        (root / "empty").mkdir()
        (root / "empty" / "test_empty.py").write_text("def test_nothing():\n    pass\n")
        lines = []
        for index in range(max(sizes)):
            folder = root / f"fs{index}"
            folder.mkdir()
            lines += ["[[board]]", f'spec = "emu:{board}?fs={folder}"', f'name = "{board}-{index}"', ""]
        times: dict[int, list[float]] = {size: [] for size in sizes}
        start_up: dict[int, list[float]] = {size: [] for size in sizes}
        for attempt in range(runs):  # sizes interleaved, so drift on the machine hits all alike
            for size in sizes:
                print(f"fleet: {size} board(s) ({attempt + 1}/{runs})", file=sys.stderr, flush=True)
                if size == 1:
                    args = ["--belay-device", f"emu:{board}?fs={root / 'fs0'}"]
                else:
                    fleet = root / f"fleet{size}.toml"
                    fleet.write_text("\n".join(lines[: size * 4]))
                    args = ["-n", str(size), "--belay-fleet", str(fleet)]
                times[size].append(_run([*args, "suite"], root))
                start_up[size].append(_run([*args, "empty"], root))
    one = statistics.median(times[sizes[0]]) if sizes[0] == 1 else None
    header = ["board", "fleet", "suite wall time (s)", "speed-up over 1 board", "ideal", "pytest start-up (s)"]
    rows = []
    for size in sizes:
        median = statistics.median(times[size])
        speedup = f"{one / median:.2f}x" if one else ""
        rows.append(
            [
                board,
                f"{size} board{'s' if size > 1 else ''}",
                f"{median:.2f}",
                speedup,
                f"{size}x",
                f"{statistics.median(start_up[size]):.2f}",
            ]
        )
    return header, rows


__all__ = ["BOARD_WAIT_MS", "SUITE", "TESTS", "measure_fleet"]
