"""Fixtures shared by the cross-package tests: real emulated boards, fake plugin distributions."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Callable

import pytest

from belay_core import Device
from belay_core.plugins import reset_plugins

BOARDS = ("unix", "wasm", "microbit")


def _unavailable(board: str) -> str | None:
    from belay_emulator import boards

    return boards.load(board).unavailable()


@pytest.fixture(params=BOARDS)
def board(request: pytest.FixtureRequest) -> str:
    """Each emulated board in turn, as a device spec. A board that cannot run here fails the test."""
    reason = _unavailable(request.param)
    if reason is not None:
        pytest.fail(f"emulated board {request.param} cannot run here: {reason}")
    return f"emu:{request.param}"


@pytest.fixture(params=("unix", "wasm"))
def tree_board(request: pytest.FixtureRequest) -> str:
    """The emulated boards whose filesystem has folders (the micro:bit's is flat), as specs."""
    reason = _unavailable(request.param)
    if reason is not None:
        pytest.fail(f"emulated board {request.param} cannot run here: {reason}")
    return f"emu:{request.param}"


@pytest.fixture
def tree_device(tree_board: str) -> Iterator[Device]:
    """A connected `Device` on each board with folders."""
    with Device(tree_board, timeout=30) as dev:
        yield dev


@pytest.fixture
def device(board: str) -> Iterator[Device]:
    """A connected `Device` on each emulated board in turn."""
    with Device(board, timeout=30) as dev:
        yield dev


def _forget_entry_points() -> None:
    """Make stevedore scan entry points again (it caches them per process)."""
    from stevedore import ExtensionManager

    ExtensionManager.ENTRY_POINT_CACHE.clear()
    reset_plugins()


@pytest.fixture
def fake_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, str], None]]:
    """Install fake plugin distributions: ``make(name, hooks_source)``.

    Each becomes a distribution ``belay-<name>`` with an entry point ``<name>`` of group ``belay``
    naming module ``fakeplugin_<name>_<n>``, found on ``sys.path`` like any installed plugin.
    """
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    counter = iter(range(10_000))
    modules: list[str] = []

    def make(name: str, source: str) -> str:
        module = f"fakeplugin_{name.replace('-', '_')}_{next(counter)}_{abs(hash(str(tmp_path))) % 10_000}"
        (site / f"{module}.py").write_text(textwrap.dedent(source))
        info = site / f"belay_{name.replace('-', '_')}-0.3.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: belay-{name}\nVersion: 0.3.1\n")
        (info / "entry_points.txt").write_text(f"[belay]\n{name} = {module}\n")
        modules.append(module)
        importlib.invalidate_caches()
        return module

    _forget_entry_points()
    yield make
    _forget_entry_points()
    for module in modules:
        sys.modules.pop(module, None)
