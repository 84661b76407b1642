"""``belay serve``: an emulated board served over a pipe and over TCP, to real Belay clients."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Callable

import pytest

from belay_core import Device
from belay_core.errors import AuthenticationError, ConnectionLost

BELAY = shutil.which("belay") or str(Path(sys.executable).with_name("belay"))


def test_over_a_pipe_a_board_runs_calls_and_tasks():
    with Device("exec:" + shlex.join([BELAY, "serve", "-d", "emu:unix"]), timeout=30) as device:
        assert device("1 + 1") == 2

        @device.task
        def echo(data):
            return data

        every_byte = bytes(range(256))
        assert echo(every_byte) == every_byte
        assert device("sys.platform") == "linux"


class Served:
    """A ``belay serve --port 0`` process; ``port`` and the status line it printed."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [BELAY, "serve", "--port", "0", *args], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        assert self.proc.stderr is not None
        self.status = self.proc.stderr.readline()
        found = re.search(r" on ([\d.:a-f]+):(\d+) ", self.status)
        assert found, self.status + self.proc.stderr.read()
        self.host, self.port = found.group(1), int(found.group(2))

    def spec(self, password: str = "s3cret") -> str:
        return f"telnet://belay:{password}@127.0.0.1:{self.port}"

    def stop(self) -> str:
        """Stop it; the rest of its stderr."""
        if self.proc.poll() is None:
            self.proc.terminate()
        _, err = self.proc.communicate(timeout=30)
        return err


@pytest.fixture
def served() -> Iterator[Callable[..., Served]]:
    started: list[Served] = []

    def start(*args: str) -> Served:
        started.append(Served(*args))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def test_over_tcp_with_the_password_state_carries_from_client_to_client(served: Callable[..., Served]):
    server = served("-d", "emu:unix", "--password", "s3cret")
    assert server.host == "127.0.0.1"  # bound to the loopback unless --host says otherwise
    assert "s3cret" not in server.status
    with Device(server.spec(), timeout=30) as first:
        first("x = 41")
        assert first("bytes(range(250, 256))") == bytes(range(250, 256))  # 0xFF travels as IAC IAC
    with Device(server.spec(), timeout=30, soft_reset=False) as second:
        assert second("x + 1") == 42


def test_a_second_client_is_refused_while_the_first_is_connected(served: Callable[..., Served]):
    server = served("-d", "emu:unix", "--password", "s3cret")
    with Device(server.spec(), timeout=30) as first:
        with pytest.raises(ConnectionLost, match=r"the board is busy, in use by 127\.0\.0\.1:\d+"):
            Device(server.spec(), timeout=30)
        assert first("2 + 2") == 4  # the first client never noticed
    with Device(server.spec(), timeout=30) as later:  # once it left, the next one is welcome
        assert later("3 + 3") == 6
    assert "refused 127.0.0.1:" in server.stop()


def test_a_wrong_password_is_refused(served: Callable[..., Served]):
    server = served("-d", "emu:unix", "--password", "s3cret")
    with pytest.raises(AuthenticationError, match="refused the login"):
        Device(server.spec("guess"), timeout=30)
    with Device(server.spec(), timeout=30) as device:  # and the board is still there for the right one
        assert device("1") == 1


def test_without_a_password_one_is_made_and_shown(served: Callable[..., Served]):
    server = served("-d", "emu:unix")
    password = re.search(r"\(password: (\S+)\)", server.status)
    assert password, server.status
    with Device(server.spec(password.group(1)), timeout=30) as device:
        assert device("1 + 2") == 3


def test_an_empty_password_is_a_usage_error():
    done = subprocess.run(
        [BELAY, "serve", "-d", "emu:unix", "--port", "0", "--password", ""], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "--password cannot be empty" in done.stderr


def test_a_lost_board_ends_serve_with_one_line(served: Callable[..., Served]):
    board = "exec:" + shlex.join([sys.executable, "-c", "import time; time.sleep(0.5)"])
    server = served("-d", board, "--password", "s3cret")
    err = server.stop() if server.proc.wait(timeout=30) is not None else ""
    assert server.proc.returncode == 1
    assert err.strip().splitlines()[-1].startswith("belay serve: lost the board: ")


def test_a_login_split_across_packets_is_read_whole(served: Callable[..., Served]):
    import socket

    server = served("-d", "emu:unix", "--password", "s3cret")

    def until(sock: socket.socket, marker: bytes) -> bytes:
        got = b""
        while marker not in got:
            chunk = sock.recv(256)
            assert chunk, got
            got += chunk
        return got

    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        until(sock, b"Login as: ")
        for piece in (b"bel", b"ay\r", b"\n"):  # a slow typist: the line end in two pieces
            sock.sendall(piece)
        until(sock, b"Password: ")
        sock.sendall(b"s3cret\r")
        sock.sendall(b"\n")
        assert b"Login succeeded" in until(sock, b"Login succeeded")


def test_over_ipv6_loopback(served: Callable[..., Served]):
    server = served("-d", "emu:unix", "--password", "s3cret", "--host", "::1")
    with Device(f"telnet://belay:s3cret@[::1]:{server.port}", timeout=30) as device:
        assert device("6 * 7") == 42
