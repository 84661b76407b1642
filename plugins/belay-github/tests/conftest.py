"""Fixtures of belay-github's tests: a download context on the fake code hosts, a destination folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from belay_packages.downloaders import DownloadContext


@pytest.fixture
def context(code_hosts: Any, tmp_path: Path) -> Iterator[DownloadContext]:
    """A download context with the installed plugins' downloaders, talking to the fake hosts."""
    with DownloadContext(project=tmp_path) as context:
        yield context


@pytest.fixture
def dst(tmp_path: Path) -> Path:
    """An empty destination folder inside ``tmp_path/box`` (so writes beside it can be checked)."""
    folder = tmp_path / "box" / "dst"
    folder.mkdir(parents=True)
    return folder
