"""The pytest plugin every test of the monorepo uses: emulated boards and local servers, all real.

Loaded for every test folder by the root ``conftest.py`` (``pytest_plugins``); ``testing/`` is on
pytest's ``pythonpath``, so tests also import the helpers themselves: ``belay_testing.boards``,
``belay_testing.telnet``, ``belay_testing.webrepl`` and ``belay_testing.code_hosts``.

Boards: `board` (each emulated board in turn, as a spec), `tree_board` (the boards with folders),
`device` and `tree_device` (a connected `Device` on them), `board_io` (raw bytes to a board program),
`processes`, `pty_board` (a board behind a pseudo-terminal), `microbit_pty` (qemu's own pty), and
`fake_port` / `usb_ports` (made-up USB enumeration, the one part no real thing can stand for here).
Servers on 127.0.0.1: `make_telnet_server` / `telnet_server`, `webrepl_fs` / `webrepl_server`,
`code_hosts` (GitHub- and GitLab-like hosts), and `free_port`.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import pytest

from belay_testing.boards import BoardIO, Processes, PtyBoard, fake_port_info, microbit_on_qemu_pty

if TYPE_CHECKING:
    from belay_core import Device
    from belay_testing.code_hosts import FakeHosts
    from belay_testing.telnet import TelnetBoardServer
    from belay_testing.webrepl import WebreplServer

BOARDS = ("unix", "wasm", "microbit")
"""The emulated boards, by belay-emulator's names."""

WEBREPL_PASSWORD = "s3cret"
"""The password of `webrepl_server`."""


def _board_spec(board: str) -> str:
    """``emu:BOARD``, or fail the test when the board cannot run here."""
    from belay_emulator import boards

    reason = boards.load(board).unavailable()
    if reason is not None:
        pytest.fail(f"emulated board {board} cannot run here: {reason}")
    return f"emu:{board}"


@pytest.fixture(params=BOARDS)
def board(request: pytest.FixtureRequest) -> str:
    """Each emulated board in turn, as a device spec. A board that cannot run here fails the test."""
    return _board_spec(request.param)


@pytest.fixture(params=("unix", "wasm"))
def tree_board(request: pytest.FixtureRequest) -> str:
    """The emulated boards whose filesystem has folders (the micro:bit's is flat), as specs."""
    return _board_spec(request.param)


@pytest.fixture
def device(board: str, belay_device_factory: Callable[..., Device]) -> Device:
    """A connected `Device` on each emulated board in turn (belay-pytest's factory closes it after the test)."""
    return belay_device_factory(board, timeout=30)


@pytest.fixture
def tree_device(tree_board: str, belay_device_factory: Callable[..., Device]) -> Device:
    """A connected `Device` on each board with folders."""
    return belay_device_factory(tree_board, timeout=30)


@pytest.fixture
def processes() -> Processes:
    """`Processes`, for tests that check no board process is left behind."""
    return Processes()


@pytest.fixture
def board_io() -> Iterator[Callable[..., BoardIO]]:
    """Start board programs: ``board_io("unix")``; every one is closed and reaped after the test."""
    started: list[BoardIO] = []

    def start(board: str, *args: str) -> BoardIO:
        io = BoardIO(board, *args)
        started.append(io)
        return io

    yield start
    for io in started:
        io.close()


@pytest.fixture
def pty_board() -> Iterator[Callable[..., PtyBoard]]:
    """Start boards on fresh pseudo-terminals: ``pty_board("unix")``; all are stopped after the test."""
    started: list[PtyBoard] = []

    def start(board: str = "unix") -> PtyBoard:
        started.append(PtyBoard.start(board))
        return started[-1]

    yield start
    for board in started:
        board.stop()


@pytest.fixture
def microbit_pty(tmp_path: Path) -> Iterator[str]:
    """The micro:bit firmware on qemu's own ``-serial pty``: yields the ``/dev/pts/N``; qemu is killed after."""
    with microbit_on_qemu_pty(tmp_path / "qemu.log") as path:
        yield path


@pytest.fixture
def fake_port() -> Callable[..., Any]:
    """Make a fake ``ListPortInfo``: ``fake_port("/dev/ttyACM0", 0x2E8A, 0x0005, serial_number="E661")``."""
    return fake_port_info


@pytest.fixture
def usb_ports(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Set the ports ``serial.tools.list_ports.comports()`` reports: ``usb_ports(fake_port(...), ...)``."""
    import serial.tools.list_ports

    def set_ports(*ports: Any) -> None:
        monkeypatch.setattr(serial.tools.list_ports, "comports", lambda include_links=False: list(ports))

    set_ports()
    return set_ports


@pytest.fixture
def free_port() -> int:
    """A port of 127.0.0.1 nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def make_telnet_server() -> Iterator[Callable[..., TelnetBoardServer]]:
    """Start telnet servers with the given options; all are closed after the test."""
    from belay_testing.telnet import TelnetBoardServer

    servers: list[TelnetBoardServer] = []

    def make(**options: Any) -> TelnetBoardServer:
        server = TelnetBoardServer(**options)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def telnet_server(make_telnet_server: Callable[..., TelnetBoardServer]) -> TelnetBoardServer:
    """A telnet server in front of an emulated unix board, accepting ``micro`` / ``python``."""
    return make_telnet_server()


@pytest.fixture
def webrepl_fs(tmp_path: Path) -> Path:
    """The filesystem folder of the board behind `webrepl_server`."""
    fs = tmp_path / "board"
    fs.mkdir()
    return fs


@pytest.fixture
def webrepl_server(webrepl_fs: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebreplServer]:
    """A WebREPL (password `WEBREPL_PASSWORD`) on an ephemeral port; ``BELAY_PASSWORD`` is unset."""
    from belay_testing.webrepl import WebreplServer

    monkeypatch.delenv("BELAY_PASSWORD", raising=False)
    with WebreplServer(WEBREPL_PASSWORD, webrepl_fs) as server:
        yield server


@pytest.fixture
def code_hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHosts]:
    """GitHub- and GitLab-like hosts on a local HTTP server, with ``owner/repo`` and ``group/sub/repo``.

    The ``BELAY_GITHUB_*`` and ``BELAY_GITLAB_URL`` variables point belay-github at them, the
    download cache is in ``tmp_path``, and plugins load again so the hooks read those URLs.
    """
    from belay_core.plugins import reset_plugins
    from belay_packages.testing import HttpServer
    from belay_testing import code_hosts as hosts

    with HttpServer() as server:
        fake = hosts.FakeHosts(server)
        monkeypatch.setenv("BELAY_GITHUB_URL", server.url("/gh"))
        monkeypatch.setenv("BELAY_GITHUB_API_URL", server.url("/ghapi"))
        monkeypatch.setenv("BELAY_GITHUB_RAW_URL", server.url("/ghraw"))
        monkeypatch.setenv("BELAY_GITHUB_ARCHIVE_URL", server.url("/codeload"))
        monkeypatch.setenv("BELAY_GITLAB_URL", server.url("/gl"))
        monkeypatch.setenv("BELAY_CACHE_DIR", str(tmp_path / "cache"))
        monkeypatch.setenv("BELAY_HTTP_BACKOFF", "0.01")
        monkeypatch.delenv("GITHUB_TOKEN", raising=False)
        monkeypatch.delenv("GITLAB_TOKEN", raising=False)
        fake.github("owner/repo", hosts.COMMITS, hosts.REFS)
        fake.gitlab("owner/repo", hosts.COMMITS, hosts.REFS)
        fake.gitlab("group/sub/repo", hosts.COMMITS, hosts.REFS)
        reset_plugins()
        try:
            yield fake
        finally:
            reset_plugins()
