"""The pytest plugin (entry point ``pytest11``: ``belay``): fixtures for tests that run on boards.

Options: ``--belay-device SPEC`` (repeatable), ``--belay-fleet FILE``, ``--belay-reset none|soft|hard``,
``--belay-timeout SECONDS``, ``--belay-scope``. Fixtures: `belay_device`, `belay_devices`,
`belay_device_factory`. Marker: ``@pytest.mark.belay(...)``. With pytest-xdist, each worker claims
one free board of the fleet (`belay_pytest.claims`), and ``-n auto`` starts one worker per board.

Import-light: pytest loads this module in every run of an environment where belay-pytest is
installed, so Belay itself is only imported when a test asks for a board.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

import pytest
from attrs import define, field

from belay_pytest.claims import Claim, try_claim
from belay_pytest.together import Boards

if TYPE_CHECKING:
    from belay_core import Device
    from belay_pytest.fleet import Board

RESETS = ("none", "soft", "hard")
SCOPES = ("session", "package", "module", "class", "function")
MARKER_KEYS = ("implementation", "platform", "emitters", "features", "tags")
LOST_PROPERTY = "belay_board_lost"
"""The JUnit/report property that says a board's connection died during a test."""


# ----------------------------------------------------------------------------------------------------
# Options and configuration
# ----------------------------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``--belay-*`` options."""
    group = parser.getgroup("belay", "Belay: tests on MicroPython boards")
    group.addoption(
        "--belay-device",
        action="append",
        default=[],
        metavar="SPEC",
        help="A board to test on, as Device takes it (repeat for a fleet). Default: BELAY_DEVICE, else the one "
        "attached board.",
    )
    group.addoption(
        "--belay-fleet",
        default=None,
        metavar="FILE",
        help="A TOML file of [[board]] tables (spec, name, tags, host). Default: BELAY_FLEET.",
    )
    group.addoption(
        "--belay-reset",
        choices=RESETS,
        default="none",
        help="Reset each board between the tests that use it: none (default), soft or hard.",
    )
    group.addoption(
        "--belay-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="Seconds connecting and each board call may take (default: Device's, 60).",
    )
    group.addoption(
        "--belay-scope",
        choices=SCOPES,
        default="session",
        help="How long a connection of belay_device and belay_devices lasts (default session: one per worker).",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker and this process's `Pool`; read the fleet file now, so a bad one stops the run."""
    config.addinivalue_line(
        "markers",
        "belay(implementation=None, platform=None, emitters=(), features=(), tags=()): run only on a board that "
        "has all of these (implementation and platform: any of those given); skipped elsewhere, naming what is "
        "missing.",
    )
    pool = _pool(config)
    if config.getoption("belay_fleet") or os.environ.get("BELAY_FLEET"):
        pool.boards  # noqa: B018 - a bad fleet file stops the run before any test, in one line


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> Optional[int]:
    """``-n auto`` with a fleet: one worker per board of this host."""
    boards = _pool(config).boards  # called before pytest_configure
    return len(boards) or None


def _pool(config: pytest.Config) -> Pool:
    """The `Pool` of this process, made on first use."""
    pool = config.stash.get(POOL, None)
    if pool is None:
        pool = config.stash[POOL] = Pool(config)
        config.pluginmanager.register(pool, "belay-pool")
    return pool


def _scope(fixture_name: str, config: pytest.Config) -> str:
    scope: str = config.getoption("belay_scope")
    return scope


# ----------------------------------------------------------------------------------------------------
# The boards of this process
# ----------------------------------------------------------------------------------------------------


class _Output(io.TextIOBase):
    """A device's ``stream_out``: board output goes to ``sys.stdout`` and is kept for the test's report.

    pytest captures ``sys.stdout`` as usual; the kept text becomes a report section of a failing test.
    """

    def __init__(self) -> None:
        self.text: list[str] = []

    def write(self, text: str) -> int:
        self.text.append(text)
        sys.stdout.write(text)
        return len(text)

    def flush(self) -> None:
        sys.stdout.flush()

    def take(self) -> str:
        text, self.text = "".join(self.text), []
        return text


@define
class Connected:
    """One open connection of the pool: the board, its device, and who uses it."""

    board: Board
    device: Device
    output: _Output
    users: int = 0
    tests: int = 0
    """Tests that have used this connection: a reset policy skips the first."""


@define(eq=False)  # registered with pytest as a plugin: hashable, by identity
class Pool:
    """The boards this test process may use, the ones it has claimed, and its open connections."""

    config: pytest.Config
    _boards: Optional[list[Board]] = None
    claims: dict[str, Claim] = field(factory=dict)
    connected: dict[str, Connected] = field(factory=dict)
    lost: dict[str, str] = field(factory=dict)
    """Boards whose connection died, by label, with why: never used again by this process."""
    mine: Optional[Board] = None
    """The board of `belay_device` in this process."""
    lost_lines: list[str] = field(factory=list)
    """Lost boards seen in the reports, the workers' included, for the terminal summary."""

    @property
    def boards(self) -> list[Board]:
        """The fleet's boards for this host and ``--belay-device``'s, else ``BELAY_DEVICE``'s."""
        if self._boards is None:
            from belay_pytest.fleet import FleetError, fleet_boards  # pydantic, only when boards are asked for

            specs: list[str] = list(self.config.getoption("belay_device") or [])
            fleet = self.config.getoption("belay_fleet") or os.environ.get("BELAY_FLEET") or None
            if not specs and not fleet and os.environ.get("BELAY_DEVICE"):
                specs = [os.environ["BELAY_DEVICE"]]
            try:
                self._boards = fleet_boards(specs, Path(fleet) if fleet else None)
            except FleetError as exc:
                raise pytest.UsageError(str(exc)) from None
        return self._boards

    @property
    def worker(self) -> str:
        """Who this process is, in messages: ``gw1, pid 123``."""
        name = os.environ.get("PYTEST_XDIST_WORKER", "pytest")
        return f"{name}, pid {os.getpid()}"

    def _claim(self, board: Board) -> Optional[str]:
        """Claim ``board`` for this process; ``None`` when claimed, else who has it."""
        if board.spec in self.claims:
            return None
        claim, holder = try_claim(board.spec, self.worker)
        if claim is None:
            return holder
        self.claims[board.spec] = claim
        return None

    def my_board(self) -> Board:
        """The board `belay_device` uses: claimed once per process, the first free one from this worker's turn."""
        if self.mine is not None:
            self.fail_if_lost([self.mine])
            return self.mine
        boards = self.boards
        if not boards:
            return self._discovered()
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
        start = int(worker[2:]) if worker[2:].isdigit() else 0
        busy = []
        for offset in range(len(boards)):
            board = boards[(start + offset) % len(boards)]
            if board.label in self.lost:
                continue
            holder = self._claim(board)
            if holder is None:
                self.mine = board
                return board
            busy.append(f"{board.label} ({holder})")
        hint = f"; run with -n {len(boards)} or -n auto for one worker per board" if len(boards) > 1 else ""
        pytest.fail(f"no free board for {self.worker}: {', '.join(busy) or 'all lost'} in use{hint}", pytrace=False)

    def _discovered(self) -> Board:
        from belay_core import Device
        from belay_core.plugins import discover_boards, get_plugins
        from belay_pytest.fleet import Board

        found = discover_boards(get_plugins())
        if len(found) != 1:
            Device(timeout=self.timeout)  # none or several attached: Device says so, and how to choose
        self._boards = [Board(spec=found[0])]
        return self.my_board()

    def all_boards(self) -> list[Board]:
        """Claim every board of the fleet (for `belay_devices`); fail naming the ones another process has."""
        boards = self.boards or [self.my_board()]
        busy = [f"{board.label} ({holder})" for board in boards if (holder := self._claim(board)) is not None]
        if busy:
            pytest.fail(
                f"belay_devices needs every board of the fleet, and {', '.join(busy)} in use by other processes: "
                "run the tests that use belay_devices without -n (e.g. -m), or with a fleet of their own",
                pytrace=False,
            )
        self.fail_if_lost(boards)
        return boards

    def fail_if_lost(self, boards: list[Board]) -> None:
        """Fail the test at once when one of ``boards`` was lost earlier in this process."""
        lost = [board.label for board in boards if board.label in self.lost]
        if lost:
            pytest.fail(f"board {lost[0]} was lost ({self.lost[lost[0]]}); it is not used again", pytrace=False)

    @property
    def timeout(self) -> Optional[float]:
        value: Optional[float] = self.config.getoption("belay_timeout")
        return value

    def connect(self, board: Board) -> Connected:
        """The open connection to ``board``, shared by the fixtures that use it at the same time."""
        from belay_core import Device

        found = self.connected.get(board.label)
        if found is None or found.device.closed:
            output = _Output()
            options: dict[str, Any] = {} if self.timeout is None else {"timeout": self.timeout}
            device = Device(board.spec, stream_out=output, **options)
            found = self.connected[board.label] = Connected(board, device, output)
        found.users += 1
        return found

    def disconnect(self, board: Board) -> None:
        """One user less of ``board``'s connection; the last one closes it."""
        found = self.connected.get(board.label)
        if found is None:
            return
        found.users -= 1
        if found.users <= 0:
            del self.connected[board.label]
            found.device.close()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Collect lost boards from every report, the workers' too (xdist forwards ``user_properties``)."""
        for name, value in report.user_properties:
            if name == LOST_PROPERTY and value not in self.lost_lines:
                self.lost_lines.append(str(value))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.lost_lines:
            terminalreporter.section("belay: boards lost")
            for line in self.lost_lines:
                terminalreporter.write_line(f"{line}; not used again in this run")

    def close(self) -> None:
        for found in list(self.connected.values()):
            found.device.close()
        self.connected.clear()
        for claim in self.claims.values():
            claim.release()
        self.claims.clear()


POOL = pytest.StashKey[Pool]()
USED = pytest.StashKey[list[Connected]]()
"""The connections a test used, for its report."""


def pytest_unconfigure(config: pytest.Config) -> None:
    """Close the connections and give the claimed boards back."""
    pool = config.stash.get(POOL, None)
    if pool is not None:
        pool.close()


# ----------------------------------------------------------------------------------------------------
# Fixtures
# ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope=_scope)  # type: ignore[arg-type]
def belay_device(request: pytest.FixtureRequest) -> Iterator[Device]:
    """A connected `Device` on this process's board: the one given, the one attached, or a fleet's free one.

    Its connection lasts for ``--belay-scope`` (default: the session, one connection per xdist worker).
    Board output is also shown in the report of a failing test, and JUnit XML records the board
    (``belay_board``). ``@pytest.mark.belay(...)`` skips the test on a board that lacks what it asks for.
    """
    pool = request.config.stash[POOL]
    board = pool.my_board()
    connected = pool.connect(board)
    try:
        yield connected.device
    finally:
        pool.disconnect(board)


@pytest.fixture(scope=_scope)  # type: ignore[arg-type]
def belay_devices(request: pytest.FixtureRequest) -> Iterator[Boards]:
    """Every board of the fleet at once, connected: `Boards`, a sequence of `Device` by name.

    ``belay_devices.run(call)`` runs one call on all of them at the same time and gathers each board's
    outcome (`belay_pytest.run_on_all`).
    """
    pool = request.config.stash[POOL]
    boards = pool.all_boards()
    connected: list[Board] = []
    try:
        for board in boards:
            pool.connect(board)
            connected.append(board)
        yield Boards({board.label: pool.connected[board.label].device for board in boards})
    finally:
        for board in connected:
            pool.disconnect(board)


@pytest.fixture
def belay_device_factory(request: pytest.FixtureRequest) -> Iterator[Callable[..., Device]]:
    """Connect devices of your own: ``belay_device_factory(spec=None, **options)``; all are closed after the test.

    ``options`` are `Device`'s; ``timeout`` defaults to ``--belay-timeout``. The spec defaults to
    ``BELAY_DEVICE``, else the one attached board. These devices claim no board: keep them off the
    boards of the fleet, or use `belay_device`.
    """
    from belay_core import Device

    pool = request.config.stash[POOL]
    opened: list[Device] = []

    def connect(spec: Optional[str] = None, **options: Any) -> Device:
        if pool.timeout is not None:
            options.setdefault("timeout", pool.timeout)
        device = Device(spec, **options) if spec is not None else Device(**options)
        opened.append(device)
        return device

    try:
        yield connect
    finally:
        for device in opened:
            device.close()


def _missing(board: Board, device: Device, wanted: dict[str, Any]) -> list[str]:
    """What of the marker's ``wanted`` the board lacks, in words: ``["feature thread"]``."""
    impl = device.implementation

    def names(value: Any) -> tuple[str, ...]:
        return (value,) if isinstance(value, str) else tuple(value or ())

    missing = []
    for key, have in (("implementation", impl.name), ("platform", impl.platform)):
        allowed = names(wanted.get(key))
        if allowed and have not in allowed:
            missing.append(f"{key} {' or '.join(allowed)} (it is {have or 'unknown'})")
    for key, have_all in (("emitters", impl.emitters), ("features", impl.features), ("tags", board.tags)):
        word = {"emitters": "emitter", "features": "feature", "tags": "tag"}[key]
        missing += [f"{word} {name}" for name in names(wanted.get(key)) if name not in have_all]
    return missing


def _wanted(item: pytest.Item) -> dict[str, Any]:
    """The merged ``@pytest.mark.belay`` keywords of a test (the closest marker wins per key)."""
    wanted: dict[str, Any] = {}
    for marker in item.iter_markers("belay"):
        if marker.args:
            pytest.fail("@pytest.mark.belay takes keywords only: implementation, platform, emitters, features, tags")
        unknown = sorted(set(marker.kwargs) - set(MARKER_KEYS))
        if unknown:
            pytest.fail(
                f"@pytest.mark.belay has no {unknown[0]!r}; it takes {', '.join(MARKER_KEYS)}",
                pytrace=False,
            )
        for key, value in marker.kwargs.items():
            wanted.setdefault(key, value)
    return wanted


@pytest.fixture(autouse=True)
def _belay_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Per test of a board: the marker's skips, the reset policy, the board in JUnit XML, output for the report."""
    names = request.fixturenames
    if "belay_device" not in names and "belay_devices" not in names:
        yield
        return
    pool = request.config.stash[POOL]
    boards: list[Board] = []
    if "belay_devices" in names:
        request.getfixturevalue("belay_devices")
        boards += pool.all_boards()
    if "belay_device" in names:
        request.getfixturevalue("belay_device")
        if pool.mine is not None and pool.mine not in boards:
            boards.append(pool.mine)
    pool.fail_if_lost(boards)
    used = [pool.connected[board.label] for board in boards]
    request.node.stash[USED] = used
    for found in used:
        request.node.user_properties.append(("belay_board", found.board.label))
        request.node.user_properties.append(("belay_spec", found.board.spec))
    wanted = _wanted(request.node)
    if wanted:
        lacking = [
            f"{found.board.label} lacks {', '.join(missing)}"
            for found in used
            if (missing := _missing(found.board, found.device, wanted))
        ]
        if lacking:
            pytest.skip("; ".join(lacking))
    policy = request.config.getoption("belay_reset")
    for found in used:
        if found.tests and policy == "soft":
            found.device.soft_reset()
        elif found.tests and policy == "hard":
            found.device.hard_reset()
        found.tests += 1
        found.output.take()
    yield


# ----------------------------------------------------------------------------------------------------
# Reports
# ----------------------------------------------------------------------------------------------------


def _is_lost(error: Optional[BaseException], device: Device, when: str) -> bool:
    """The test lost the board's connection (at teardown, a closed device is the end of its scope)."""
    from belay_core.errors import ConnectionFailedError, DeviceClosedError

    return isinstance(error, (ConnectionFailedError, DeviceClosedError)) or (when == "call" and device.closed)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Mark lost boards; add the board output and the board traceback to a failing test's report."""
    report: pytest.TestReport = yield
    used = item.stash.get(USED, [])
    if not used or (report.when == "setup" and report.passed):
        return report
    error = call.excinfo.value if call.excinfo is not None else None
    pool = item.config.stash[POOL]
    for found in used:
        label = found.board.label
        if label not in pool.lost and _is_lost(error, found.device, report.when):
            pool.lost[label] = f"{type(error).__name__ if error else 'closed'} in {item.nodeid}"
            report.user_properties.append((LOST_PROPERTY, f"{label}: {pool.lost[label]}"))
            report.sections.append((f"belay board {label} lost", f"{pool.lost[label]}: {error}"))
        if report.when == "call" and report.failed:
            output = found.output.take()
            if output:
                report.sections.append((f"belay output of {label}", output))
    if report.when == "call" and report.failed:
        traceback = getattr(error, "traceback", None)
        from belay_core.errors import DeviceError

        if isinstance(error, DeviceError) and isinstance(traceback, str):
            report.sections.append(("belay board traceback", traceback))
    return report
