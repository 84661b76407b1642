"""A real WebREPL server on 127.0.0.1 in front of an emulated unix board, for the transport tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from belay_core.testing import import_beside

PASSWORD = "s3cret"


def _load_server_module() -> Any:
    return import_beside(__file__, "webrepl_server.py", "belay_webrepl_tests_server")


webrepl_server = _load_server_module()


@pytest.fixture
def board_fs(tmp_path: Path) -> Path:
    """The emulated board's filesystem folder."""
    fs = tmp_path / "board"
    fs.mkdir()
    return fs


@pytest.fixture
def server(board_fs: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[webrepl_server.WebreplServer]:
    """A WebREPL (password `PASSWORD`) on an ephemeral port; ``BELAY_PASSWORD`` is unset."""
    monkeypatch.delenv("BELAY_PASSWORD", raising=False)
    with webrepl_server.WebreplServer(PASSWORD, board_fs) as srv:
        yield srv
