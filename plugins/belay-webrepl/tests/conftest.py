"""A real WebREPL server on 127.0.0.1 in front of an emulated unix board, for the transport tests."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PASSWORD = "s3cret"


def _load_server_module():
    # Tests run with --import-mode=importlib: this folder is not on sys.path, so load the helper by path.
    name = "belay_webrepl_tests_server"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("webrepl_server.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


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
