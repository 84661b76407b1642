"""Fixtures of the cross-package tests: fake plugin distributions (boards and servers: `belay_testing.fixtures`)."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Callable

import pytest

from belay_core.plugins import reset_plugins


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
