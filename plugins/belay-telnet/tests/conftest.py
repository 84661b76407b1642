"""A real telnet server in front of an emulated board, for the telnet transport's tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Callable

import pytest

from belay_core.testing import import_beside


def _load_server_module() -> Any:
    return import_beside(__file__, "telnet_server.py", "belay_telnet_tests_server")


TelnetBoardServer = _load_server_module().TelnetBoardServer


@pytest.fixture
def make_server() -> Iterator[Callable[..., Any]]:
    """Start telnet servers with the given options; all are closed after the test."""
    servers: list[Any] = []

    def make(**options: Any) -> Any:
        server = TelnetBoardServer(**options)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def server(make_server: Callable[..., Any]) -> Any:
    """A telnet server accepting ``micro`` / ``python``."""
    return make_server()


@pytest.fixture
def free_port() -> int:
    """A port of 127.0.0.1 nothing listens on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def _no_credentials_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BELAY_USER", raising=False)
    monkeypatch.delenv("BELAY_PASSWORD", raising=False)
