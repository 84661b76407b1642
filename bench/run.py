"""Benchmark belay-core against the original belay and mpremote on emulated MicroPython boards.

    hatch run bench:run                      # full run, rewrites the table in bench/README.md
    hatch run bench:run --quick --boards unix --only ours

Every measurement runs in a fresh worker process (``run.py --worker TOOL --boards BOARD``) that
prints one JSON line, so the tools never share a process, a board or an import cache. All three drive
the same board program, ``python -m belay_emulator BOARD``: ours as ``emu:BOARD``, the original belay
as ``exec:<that command>``, mpremote over a pseudo-terminal whose master side runs it. The rows
"device("0") latency by transport" reach the unix board over each of `TRANSPORTS` instead
(``run.py --worker TOOL --transport T``), the websocket and telnet ones through the plugins' test servers, each run
in its own process (``run.py --serve T``).

To add a tool, write a function ``tool(board) -> Session`` and list it in `TOOLS`; to add a measured
operation, give `Session` another callable and a row in `ROWS`. A field a tool leaves ``None`` shows as n/a.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import io
import json
import os
import platform
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import tty
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Optional

from attrs import define

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
JSON_MARK = "BENCH-JSON "


def board_command(board: str) -> list[str]:
    """The board program every tool drives: what ``emu:BOARD`` runs."""
    return [sys.executable, "-m", "belay_emulator", board]


# --------------------------------------------------------------------------------------------------
# Tools: one function each, connecting to a board and returning a Session
# --------------------------------------------------------------------------------------------------


GENERATOR_VALUES = 1000


def define_tasks(device: Any) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Define the same two tasks through either belay's ``@device.task``: ``add(a, b)`` and the generator ``gen(n)``."""

    @device.task
    def add(a, b):
        return a + b

    @device.task
    def gen(n):
        for i in range(n):  # noqa: UP028 (a plain loop on the board, as in the task's docs)
            yield i

    return add, gen


@define
class Session:
    """A connected tool: ``call`` evaluates ``0`` on the board and returns the result.

    ``tasks`` defines `define_tasks` on the board and returns them; ``bytes_written`` counts bytes sent so far.
    ``put(local, remote)`` and ``get(remote, local)`` copy one file; ``sync(folder)`` makes the board's ``/``
    hold ``folder`` and returns how many files it sent when the tool says so (else ``None``).
    """

    call: Callable[[], Any]
    close: Callable[[], None]
    round_trips: Optional[Callable[[], int]] = None
    tasks: Optional[Callable[[], tuple[Callable[..., Any], Callable[..., Any]]]] = None
    bytes_written: Optional[Callable[[], int]] = None
    put: Optional[Callable[[Path, str], Any]] = None
    get: Optional[Callable[[str, Path], Any]] = None
    sync: Optional[Callable[[Path], Optional[int]]] = None
    heap: Optional[Callable[[], int]] = None
    """The board's free heap after a collection (for the soak rows)."""


class Turnarounds:
    """Counts write→read turnarounds on a serial-like object (the times a tool waited on the board) and bytes sent."""

    def __init__(self) -> None:
        self.count = 0
        self.bytes = 0
        self._wrote = False

    def attach(self, target: Any) -> None:
        """Wrap ``read`` and ``write`` of ``target`` (a class or an instance)."""
        read, write = target.read, target.write

        def counted_read(*args: Any, **kwargs: Any) -> Any:
            if self._wrote:
                self.count += 1
                self._wrote = False
            return read(*args, **kwargs)

        def counted_write(*args: Any, **kwargs: Any) -> Any:
            self._wrote = True
            self.bytes += len(args[-1])  # the data: last positional, after ``self`` when wrapping a class
            return write(*args, **kwargs)

        target.read, target.write = counted_read, counted_write


def ours(board: str) -> Session:
    from belay_core import Device

    device = Device(f"emu:{board}", stream_out=None)
    return Session(
        call=lambda: device("0"),
        close=device.close,
        round_trips=lambda: device.round_trips,
        tasks=lambda: define_tasks(device),
        bytes_written=lambda: device.bytes_written,
        put=device.put,
        get=device.get,
        sync=lambda folder: len(device.sync(folder, dst="/").upload),
        heap=lambda: device(HEAP),
    )


# The original belay's default startup imports `machine.Pin`, which neither emulated board has: the same
# imports here, each allowed to fail (as ours does by default).
BELAY_STARTUP = """\
import os
from time import sleep
from micropython import const
try:
    import machine
    from machine import Pin, Timer
except ImportError:
    pass
try:
    from machine import PWM
except ImportError:
    pass
try:
    from machine import I2C
except ImportError:
    pass
try:
    from machine import SPI
except ImportError:
    pass
try:
    from machine import ADC
except ImportError:
    pass
"""


def belay(board: str) -> Session:
    import belay
    from belay import pyboard

    counter = Turnarounds()
    counter.attach(pyboard.ProcessToSerial)
    device = belay.Device("exec:" + shlex.join(board_command(board)), startup=BELAY_STARTUP)
    return Session(
        call=lambda: device("0"),
        close=device.close,
        round_trips=lambda: counter.count,
        tasks=lambda: define_tasks(device),
        bytes_written=lambda: counter.bytes,
        # No file API of its own: its sync sends each file with its Pyboard's fs_put, so the same for one file.
        put=lambda local, remote: device._board.fs_put(str(local), remote),
        get=lambda remote, local: device._board.fs_get(remote, str(local)),
        sync=lambda folder: device.sync(folder, dst="/"),
        heap=lambda: device(HEAP),
    )


def pty_board(board: str) -> tuple[str, Callable[[], None]]:
    """Run the board program on the master side of a new pseudo-terminal: ``(slave device path, stop)``.

    As ``PtyBoard`` in testing/belay_testing/boards.py (not imported: it needs pytest).
    """
    master, slave = os.openpty()
    tty.setraw(slave)  # no echo, no newline translation: a plain serial line
    process = subprocess.Popen(
        board_command(board), stdin=master, stdout=master, stderr=subprocess.DEVNULL, start_new_session=True
    )
    os.close(master)  # the board holds the only master

    def stop() -> None:
        if process.returncode is None:  # once: mpremote's close and the endpoint's both stop it
            os.close(slave)
            process.kill()
            process.wait()

    return os.ttyname(slave), stop


def mpremote(board: str) -> Session:
    from mpremote.commands import do_filesystem_recursive_cp

    transport, session = mpremote_serial(pty_board(board))

    def put(local: Path, remote: str) -> None:
        transport.fs_writefile(remote, local.read_bytes())

    def get(remote: str, local: Path) -> None:
        local.write_bytes(transport.fs_readfile(remote))

    def sync(folder: Path) -> None:
        """``mpremote fs cp -r folder/* :``: its CLI's copy, which skips a file whose sha256 matches the board's."""
        state = type("State", (), {"transport": transport})()
        with contextlib.redirect_stdout(io.StringIO()):  # its "Up to date: ..." lines
            for entry in sorted(folder.iterdir()):
                do_filesystem_recursive_cp(state, str(entry), ":", False, True)

    return Session(
        call=session.call,
        close=session.close,
        round_trips=session.round_trips,
        put=put,
        get=get,
        sync=sync,
    )


def mpremote_serial(board: tuple[str, Callable[[], None]]) -> tuple[Any, Session]:
    """mpremote's `SerialTransport` on ``board`` (from `pty_board`), in the raw REPL: the transport and its Session."""
    from mpremote.transport_serial import SerialTransport

    path, stop = board
    try:
        transport = SerialTransport(path, baudrate=115200)
    except BaseException:
        stop()
        raise
    counter = Turnarounds()
    counter.attach(transport.serial)
    transport.enter_raw_repl(soft_reset=True)  # what the mpremote CLI does on its first command

    def close() -> None:
        try:
            transport.exit_raw_repl()
            transport.close()
        finally:
            stop()

    return transport, Session(
        call=lambda: int(transport.exec("print(0)")), close=close, round_trips=lambda: counter.count
    )


# --------------------------------------------------------------------------------------------------
# Transports: the unix board reached over each kind of line
# --------------------------------------------------------------------------------------------------


TRANSPORT_BOARD = "unix"
TRANSPORTS = ("exec", "serial pty", "websocket", "telnet")
"""Ways to reach the board, each a row pair: ``exec`` runs it on pipes, ``serial pty`` on a pseudo-terminal
(`pty_board`), ``websocket`` and ``telnet`` behind the plugins' test servers (`serve`)."""

WEBREPL_PASSWORD = "s3cret"
TEST_SERVERS = HERE.parent / "testing" / "belay_testing"
SERVERS = {
    "websocket": TEST_SERVERS / "webrepl.py",
    "telnet": TEST_SERVERS / "telnet.py",
}


@define
class Endpoint:
    """A started board for one transport: ``address`` is the command (exec), the pty path (serial pty) or
    ``127.0.0.1:PORT`` (servers); ``stop`` ends it."""

    transport: str
    address: str
    stop: Callable[[], None]


def load_by_path(path: Path) -> Any:
    """Import the Python file ``path`` (a test server of ``testing/belay_testing``, not on ``sys.path``)."""
    name = f"bench_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def serve(transport: str) -> None:
    """``run.py --serve TRANSPORT``: run that plugin's test server, print ``PORT n``, stop at the end of stdin."""
    module = load_by_path(SERVERS[transport])
    with tempfile.TemporaryDirectory() as fs:
        # telnet: user micro, password python, both tools' defaults
        websocket = transport == "websocket"
        server = module.WebreplServer(WEBREPL_PASSWORD, fs) if websocket else module.TelnetBoardServer()
        print(f"PORT {server.port}", flush=True)
        sys.stdin.read()
        server.close()


def start_endpoint(transport: str) -> Endpoint:
    """Start the unix board for ``transport``; a server runs in its own process, not the measuring one."""
    if transport == "exec":
        return Endpoint(transport, shlex.join(board_command(TRANSPORT_BOARD)), lambda: None)
    if transport == "serial pty":
        path, stop = pty_board(TRANSPORT_BOARD)
        return Endpoint(transport, path, stop)
    command = [sys.executable, __file__, "--serve", transport]
    server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None and server.stdin is not None
    line = server.stdout.readline()
    if not line.startswith("PORT "):
        server.kill()
        raise RuntimeError(f"the {transport} server did not start: {line!r}")

    def stop() -> None:
        server.stdin.close()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    return Endpoint(transport, f"127.0.0.1:{line.split()[1]}", stop)


def ours_via(endpoint: Endpoint) -> Session:
    from belay_core import Device

    spec, options = endpoint.address, {}
    if endpoint.transport == "exec":
        spec = "exec:" + spec
    elif endpoint.transport == "websocket":
        spec, options = "ws://" + spec, {"password": WEBREPL_PASSWORD}
    elif endpoint.transport == "telnet":
        spec = "telnet://" + spec
    device = Device(spec, stream_out=None, **options)
    return Session(call=lambda: device("0"), close=device.close)


def belay_via(endpoint: Endpoint) -> Session:
    """The original belay's own specs: ``exec:CMD``, a serial port, ``ws://HOST:PORT`` with a password, and an IP
    address with an optional ``:PORT`` for telnet (user ``micro``, password ``python`` by default)."""
    import belay

    spec, options = endpoint.address, {}
    if endpoint.transport == "exec":
        spec = "exec:" + spec
    elif endpoint.transport == "websocket":
        spec, options = "ws://" + spec, {"password": WEBREPL_PASSWORD}
    device = belay.Device(spec, startup=BELAY_STARTUP, **options)
    return Session(call=lambda: device("0"), close=device.close)


def mpremote_via(endpoint: Endpoint) -> Session:
    """``SerialTransport`` on the pty; mpremote's network transports are not compared."""
    return mpremote_serial((endpoint.address, endpoint.stop))[1]


@define(frozen=True)
class Tool:
    label: str
    connect: Callable[[str], Session]
    module: str
    """Imported before the clock starts (import time is its own row)."""
    distribution: str
    via: Callable[[Endpoint], Session]
    """Connect to a started `Endpoint` (the transport rows)."""
    transports: tuple[str, ...] = TRANSPORTS
    """The `TRANSPORTS` the tool is measured on (others show as n/a)."""


TOOLS = {
    "ours": Tool("ours", ours, "belay_core", "belay-core", ours_via),
    "belay": Tool("belay", belay, "belay", "belay", belay_via),
    "mpremote": Tool("mpremote", mpremote, "mpremote.transport_serial", "mpremote", mpremote_via, ("serial pty",)),
}


# --------------------------------------------------------------------------------------------------
# Worker: measures one tool on one board
# --------------------------------------------------------------------------------------------------


def timed(call: Callable[[], Any], n: int, warmup: int = 0) -> list[float]:
    """Seconds taken by each of ``n`` calls, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


FILE_BYTES = 100 * 1024
"""Size of the random binary file put and got."""

SYNC_FILES = 100
"""Files in the synced project (``--quick``: 20)."""


def make_project(root: Path, files: int) -> list[Path]:
    """Write ``files`` distinct modules of about 1 KiB under ``root``: a fifth at its top, the rest in 4 folders."""
    rng = random.Random(files)
    paths = []
    for i in range(files):
        folder = root if i % 5 == 0 else root / f"pkg{i % 5}"
        folder.mkdir(parents=True, exist_ok=True)
        lines = [f'"""Module {i}: generated for the benchmark."""', "", "import time", ""]
        while sum(len(line) + 1 for line in lines) < 1000:
            k = rng.randrange(1_000_000)
            lines += [
                "",
                f"def step_{k}(value, scale={rng.randrange(2, 9)}):",
                f'    """Scale ``value`` and add {k}."""',
                f"    result = value * scale + {k}  # offset",
                "    return result if result < 1_000_000 else result % 97",
                "",
            ]
        path = folder / f"mod{i:03d}.py"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths


def measure_files(session: Session, runs: int, sync_files: int, result: dict[str, Any]) -> None:
    """Sync a project of ``sync_files`` files to the empty board, then put and get a `FILE_BYTES` file ``runs`` times.

    Sync goes first: the file put afterwards sits in ``/`` and would be deleted by a later sync.
    """
    count = session.round_trips or (lambda: 0)
    with tempfile.TemporaryDirectory() as tmp:
        if session.sync and sync_files:
            root = Path(tmp) / "project"
            project = make_project(root, sync_files)
            sent = []

            def sync() -> None:
                sent.append(session.sync(root))

            result["sync_first_s"] = timed(sync, 1)
            before = count()
            result["sync_unchanged_s"] = timed(sync, 1)
            result["sync_unchanged_round_trips"] = count() - before if session.round_trips else None
            result["sync_unchanged_s"] += timed(sync, runs - 1)
            result["sync_changed_s"] = []
            for i in range(runs):
                with project[i * 7 % len(project)].open("a") as f:
                    f.write(f"CHANGED = {i}\n")
                result["sync_changed_s"] += timed(sync, 1)
            expected = [len(project)] + [0] * runs + [1] * runs
            if sent[0] is not None and sent != expected:
                raise RuntimeError(f"sync sent {sent} files, expected {expected}")
        if session.put and session.get and runs:
            data = random.Random(0).randbytes(FILE_BYTES)
            local, back = Path(tmp) / "data.bin", Path(tmp) / "back.bin"
            local.write_bytes(data)
            result["put_s"] = timed(lambda: session.put(local, "/data.bin"), runs)
            result["get_s"] = timed(lambda: session.get("/data.bin", back), runs)
            if back.read_bytes() != data:
                raise RuntimeError("the file got back differs from the file put")


SOAK_CALLS_PER_N = 10
SOAK_SYNCS_PER_RUN = 4
"""The soak rows run ``10 * n`` calls and ``4 * --file-runs`` unchanged syncs (2,000 and 20 by default)."""

HEAP = "__import__('gc').collect() or __import__('gc').mem_free()"
"""The board's free heap after a collection."""


def measure_soak(session: Session, calls: int, syncs: int, sync_files: int, result: dict[str, Any]) -> None:
    """``calls`` evaluations of ``0``, then ``syncs`` unchanged syncs: how the board's free heap and the
    host's peak memory changed (both stay flat when nothing leaks)."""
    if session.heap is None or not calls:
        return
    import resource

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "soak"
        make_project(root, sync_files)
        if session.sync and syncs:
            session.sync(root)
        before, peak = session.heap(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for _ in range(calls):
            session.call()
        for _ in range(syncs if session.sync else 0):
            session.sync(root)
        result["soak_heap_change"] = session.heap() - before
        result["soak_host_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak


def measure(
    name: str, board: str, n: int, warmup: int, generator_runs: int, file_runs: int = 0, sync_files: int = 0
) -> dict[str, Any]:
    tool = TOOLS[name]
    start = time.perf_counter()
    importlib.import_module(tool.module)
    import_s = time.perf_counter() - start

    start = time.perf_counter()
    session = tool.connect(board)
    first = session.call()
    connect_s = time.perf_counter() - start
    round_trips = session.round_trips() if session.round_trips else None
    if first != 0:
        raise RuntimeError(f"{name} evaluated 0 as {first!r}")
    result = {
        "version": metadata.version(tool.distribution),
        "import_s": import_s,
        "connect_s": connect_s,
        "round_trips": round_trips,
    }
    try:
        result["latency_s"] = timed(session.call, n, warmup)
        if session.tasks and (n or generator_runs):
            add, gen = session.tasks()
            if add(1, 2) != 3 or sum(gen(GENERATOR_VALUES)) != sum(range(GENERATOR_VALUES)):
                raise RuntimeError(f"{name} tasks returned wrong results")
            if session.bytes_written:
                before = session.bytes_written()
                add(1, 2)
                result["task_bytes"] = session.bytes_written() - before
            result["task_s"] = timed(lambda: add(1, 2), n, warmup)
            result["generator_s"] = timed(lambda: sum(gen(GENERATOR_VALUES)), generator_runs)
        measure_files(session, file_runs, sync_files, result)
        measure_soak(session, SOAK_CALLS_PER_N * n, SOAK_SYNCS_PER_RUN * file_runs, sync_files, result)
    finally:
        session.close()
    return result


def measure_transport(name: str, transport: str, n: int, warmup: int) -> dict[str, Any]:
    """Latency of ``device("0")`` (mpremote: ``exec("print(0)")``) over ``transport``, ``n`` calls after ``warmup``."""
    tool = TOOLS[name]
    importlib.import_module(tool.module)
    endpoint = start_endpoint(transport)
    try:
        session = tool.via(endpoint)
    except BaseException:
        endpoint.stop()
        raise
    try:
        if session.call() != 0:
            raise RuntimeError(f"{name} over {transport} did not evaluate 0 to 0")
        return {"version": metadata.version(tool.distribution), "latency_s": timed(session.call, n, warmup)}
    finally:
        session.close()
        endpoint.stop()


def compile_sources() -> None:
    """Byte-compile Belay's own packages, as installing a wheel does, so that import and connect times
    compare with the original belay's and mpremote's (installed from PyPI, byte-compiled by pip) and
    not with compiling the sources: hatch runs Python with ``PYTHONDONTWRITEBYTECODE=1``."""
    import compileall

    root = Path(__file__).resolve().parent.parent
    for package in [root / "belay_core", *sorted(root.glob("plugins/*/belay_*"))]:
        compileall.compile_dir(str(package), quiet=1)


def run_worker(
    name: str,
    board: str,
    n: int,
    warmup: int,
    generator_runs: int = 0,
    file_runs: int = 0,
    sync_files: int = 0,
    transport: Optional[str] = None,
) -> dict[str, Any]:
    """Run `measure` (or `measure_transport`) in a fresh process; a failure comes back as ``{"error": ...}``."""
    command = [sys.executable, __file__, "--worker", name, "--boards", board, "-n", str(n), "--warmup", str(warmup)]
    command += ["--generator-runs", str(generator_runs), "--file-runs", str(file_runs), "--sync-files", str(sync_files)]
    if transport:
        command += ["--transport", transport]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return {"error": "timed out"}
    for line in done.stdout.splitlines():
        if line.startswith(JSON_MARK):
            return json.loads(line[len(JSON_MARK) :])
    lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
    return {"error": lines[-1]}


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------


@define(frozen=True)
class Row:
    label: str
    value: Callable[[dict[str, Any]], Optional[float]]
    integer: bool = False
    ratio: bool = True


def _ms(key: str) -> Callable[[dict[str, Any]], Optional[float]]:
    return lambda r: r[key] * 1000 if key in r else None


def _samples(
    key: str, stat: Callable[[list[float]], float], scale: float = 1000, least: int = 1
) -> Callable[[dict[str, Any]], Optional[float]]:
    """``stat`` of the samples under ``key``, times ``scale``; None with fewer than ``least`` samples."""
    return lambda r: stat(r[key]) * scale if len(r.get(key, ())) >= least else None


ROWS = [
    Row("import (ms)", _ms("import_s")),
    Row("connect → first 0 (ms)", _ms("connect_s")),
    Row("round trips to first 0", lambda r: r.get("round_trips"), integer=True),
    Row("eval 0: median (ms)", _samples("latency_s", statistics.median)),
    Row("eval 0: min (ms)", _samples("latency_s", min), ratio=False),
    Row("eval 0: stdev (ms)", _samples("latency_s", statistics.stdev, least=2), ratio=False),
    Row("task add(1, 2): median (ms)", _samples("task_s", statistics.median)),
    Row("task: bytes written per call", lambda r: r.get("task_bytes"), integer=True),
    Row(f"generator {GENERATOR_VALUES:,} values (ms)".replace(",", " "), _samples("generator_s", statistics.median)),
    Row("generator: per value (µs)", _samples("generator_s", statistics.median, 1e6 / GENERATOR_VALUES)),
    Row(f"put {FILE_BYTES // 1024} KiB file (ms)", _samples("put_s", statistics.median)),
    Row(f"get {FILE_BYTES // 1024} KiB file (ms)", _samples("get_s", statistics.median)),
    Row("sync project: first, empty board (ms)", _samples("sync_first_s", statistics.median)),
    Row("sync project: unchanged (ms)", _samples("sync_unchanged_s", statistics.median)),
    Row("sync project: unchanged, round trips", lambda r: r.get("sync_unchanged_round_trips"), integer=True),
    Row("sync project: 1 file changed (ms)", _samples("sync_changed_s", statistics.median)),
    Row("soak: board free heap change (bytes)", lambda r: r.get("soak_heap_change"), integer=True, ratio=False),
    Row("soak: host peak memory growth (KiB)", lambda r: r.get("soak_host_kib"), integer=True, ratio=False),
]


def _number(value: Optional[float], integer: bool) -> str:
    if value is None:
        return "n/a"
    if integer:
        return f"{value:.0f}"
    return f"{value:.3f}" if value < 1 else f"{value:.1f}"


TRANSPORT_SECTION = f'{TRANSPORT_BOARD}: device("0") latency by transport'
"""The board cell of the transport rows: one ``median`` and one ``min`` row per transport."""


def transport_rows(transport: str) -> list[Row]:
    return [
        Row(f"{transport}: median (ms)", _samples("latency_s", statistics.median)),
        Row(f"{transport}: min (ms)", _samples("latency_s", min), ratio=False),
    ]


def build_table(
    results: dict[str, dict[str, dict[str, Any]]],
    tools: list[str],
    transports: Optional[dict[str, dict[str, dict[str, Any]]]] = None,
) -> tuple[list[str], list[list[str]]]:
    """Header and rows: one block of `ROWS` per board, then the transport rows (``transports``: transport → tool →
    result; ``{}`` for a transport the tool is not measured on), one column per tool, then ratios of ours to the others.
    """
    blocks = [(board, ROWS, by_tool) for board, by_tool in results.items()]
    blocks += [(TRANSPORT_SECTION, transport_rows(t), by_tool) for t, by_tool in (transports or {}).items()]
    header = ["board", "measure"]
    for name in tools:
        versions = {r["version"] for _, _, by_tool in blocks for r in [by_tool[name]] if "version" in r}
        header.append(" ".join([TOOLS[name].label, *sorted(versions)]))
    others = [name for name in tools if name != "ours"] if "ours" in tools else []
    header += [f"ours ÷ {name}" for name in others]
    rows = []
    for board, block_rows, by_tool in blocks:
        for row in block_rows:
            cells = [board, row.label]
            values = {}
            for name in tools:
                result = by_tool[name]
                if "error" in result:
                    cells.append("error")
                    continue
                values[name] = row.value(result)
                cells.append(_number(values[name], row.integer))
            for name in others:
                mine, theirs = values.get("ours"), values.get(name)
                cells.append(f"{mine / theirs:.2f}x" if row.ratio and mine is not None and theirs else "")
            rows.append(cells)
    return header, rows


def print_table(header: list[str], rows: list[list[str]], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i < 2 else "right")
    previous = None
    for cells in rows:
        if previous is not None and cells[0] != previous:
            table.add_section()
        previous = cells[0]
        table.add_row(*cells)
    Console(width=None if sys.stdout.isatty() else 120).print(table)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---", "---"] + ["---:"] * (len(header) - 2)) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines)


def write_readme(text: str) -> None:
    current = README.read_text() if README.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    before, _, rest = current.partition(START)
    _, _, after = rest.partition(END)
    README.write_text(f"{before}{START}\n{text}\n{END}{after}")


# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boards", default="unix,wasm", help="emulated boards, comma-separated (default unix,wasm)")
    parser.add_argument("--only", default=",".join(TOOLS), help=f"tools, comma-separated (default {','.join(TOOLS)})")
    parser.add_argument("-n", type=int, default=200, help="timed `0` evaluations per tool and board (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed evaluations before those (default 20)")
    parser.add_argument("--connects", type=int, default=5, help="fresh processes timing connect (default 5)")
    parser.add_argument("--generator-runs", type=int, default=5, help="timed generator runs (default 5)")
    parser.add_argument("--file-runs", type=int, default=5, help="timed puts, gets and re-syncs (default 5)")
    parser.add_argument(
        "--sync-files", type=int, default=SYNC_FILES, help=f"files in the synced project (default {SYNC_FILES})"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: -n 20 --warmup 3 --connects 1 --generator-runs 1 --file-runs 1 --sync-files 20,"
        " a fleet suite of 8 tests on 1 and 2 boards, once",
    )
    parser.add_argument(
        "--transports",
        default=",".join(TRANSPORTS),
        help=f'transports of the {TRANSPORT_BOARD} board for the device("0") rows, comma-separated, or none'
        f" (default {','.join(TRANSPORTS)})",
    )
    parser.add_argument(
        "--fleet",
        default="1,2,4",
        help="fleet sizes for the board-test-suite rows (belay-pytest, pytest -n N), comma-separated, or none"
        " (default 1,2,4)",
    )
    parser.add_argument("--fleet-runs", type=int, default=3, help="timed runs of the suite per size (default 3)")
    parser.add_argument("--worker", choices=list(TOOLS), help=argparse.SUPPRESS)
    parser.add_argument("--transport", choices=TRANSPORTS, help=argparse.SUPPRESS)
    parser.add_argument("--serve", choices=list(SERVERS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    boards = [b.strip() for b in args.boards.split(",") if b.strip()]

    if args.serve:
        serve(args.serve)
        return 0
    if args.worker:
        if args.transport:
            result = measure_transport(args.worker, args.transport, args.n, args.warmup)
        else:
            result = measure(
                args.worker, boards[0], args.n, args.warmup, args.generator_runs, args.file_runs, args.sync_files
            )
        print(JSON_MARK + json.dumps(result), flush=True)
        return 0

    tools = [t.strip() for t in args.only.split(",") if t.strip()]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tool(s) {', '.join(sorted(unknown))}; choose from {', '.join(TOOLS)}")
    transports = [t.strip() for t in args.transports.split(",") if t.strip() and t.strip() != "none"]
    unknown = set(transports) - set(TRANSPORTS)
    if unknown:
        parser.error(f"unknown transport(s) {', '.join(sorted(unknown))}; choose from {', '.join(TRANSPORTS)}")
    if args.quick:
        args.n, args.warmup, args.connects = min(args.n, 20), min(args.warmup, 3), 1
        args.generator_runs, args.file_runs = min(args.generator_runs, 1), min(args.file_runs, 1)
        args.sync_files = min(args.sync_files, 20)
        args.fleet_runs = 1
        if args.fleet == parser.get_default("fleet"):
            args.fleet = "1,2"
    fleet_sizes = sorted({int(n) for n in args.fleet.split(",") if n.strip() and n.strip() != "none"})
    if any(size < 1 for size in fleet_sizes):
        parser.error("--fleet sizes are 1 or more")

    compile_sources()
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for board in boards:
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in tools}
        for attempt in range(args.connects):  # tools interleaved, so drift on the machine hits all alike
            for name in tools:
                first = attempt == 0
                n, generator_runs = (args.n, args.generator_runs) if first else (0, 0)
                file_runs, sync_files = (args.file_runs, args.sync_files) if first else (0, 0)
                print(f"{board}: {name} ({attempt + 1}/{args.connects})", file=sys.stderr, flush=True)
                result = run_worker(name, board, n, args.warmup if n else 0, generator_runs, file_runs, sync_files)
                if "error" in result:
                    print(f"  {name} failed: {result['error']}", file=sys.stderr, flush=True)
                runs[name].append(result)
        results[board] = {name: _combine(tool_runs) for name, tool_runs in runs.items()}

    by_transport: dict[str, dict[str, dict[str, Any]]] = {}
    for transport in transports:
        by_transport[transport] = {}
        for name in tools:
            if transport not in TOOLS[name].transports:
                by_transport[transport][name] = {}
                continue
            print(f"{TRANSPORT_BOARD} over {transport}: {name}", file=sys.stderr, flush=True)
            result = run_worker(name, TRANSPORT_BOARD, args.n, args.warmup, transport=transport)
            if "error" in result:
                print(f"  {name} failed: {result['error']}", file=sys.stderr, flush=True)
            by_transport[transport][name] = result

    header, rows = build_table(results, tools, by_transport)
    title = (
        f"Belay benchmark: n={args.n}, connect median of {args.connects}, generator median of {args.generator_runs},"
        f" put/get/re-sync median of {args.file_runs}, sync project of {args.sync_files} files"
    )
    print_table(header, rows, title)
    fleet_text = ""
    if fleet_sizes:
        from fleet import BOARD_WAIT_MS, TESTS, measure_fleet  # bench/fleet.py, beside this script

        tests = 8 if args.quick else TESTS
        fleet_header, fleet_rows = measure_fleet(fleet_sizes, args.fleet_runs, tests)
        fleet_title = (
            f"Fleet: {tests} board tests ({BOARD_WAIT_MS} ms of board work each), one board per pytest-xdist worker;"
            f" median of {args.fleet_runs}"
        )
        print_table(fleet_header, fleet_rows, fleet_title)
        fleet_text = f"\n\n{fleet_title}.\n\n{markdown_table(fleet_header, fleet_rows)}"
    if args.quick or set(tools) != set(TOOLS) or set(transports) != set(TRANSPORTS) or not fleet_sizes:
        print("bench/README.md not updated (only full runs write it)", file=sys.stderr)
        return 0
    machine = f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, {date.today()}"
    write_readme(f"{title}; {machine}.\n\n{markdown_table(header, rows)}{fleet_text}")
    print(f"wrote {README}", file=sys.stderr)
    return 0


def _combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The first run's latencies and round trips; the medians of every run's import and connect times."""
    good = [r for r in runs if "error" not in r]
    if not good:
        return runs[0]
    combined = dict(good[0])
    for key in ("import_s", "connect_s"):
        combined[key] = statistics.median(r[key] for r in good)
    return combined


if __name__ == "__main__":
    sys.exit(main())
