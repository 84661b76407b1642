"""The progress display of downloads, shared by the package manager's commands."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Optional

from belay_core.commands.console import bytes_progress

if TYPE_CHECKING:
    from rich.console import Console

    from belay_packages.downloaders import DownloadProgress


@contextlib.contextmanager
def download_progress(console: Console) -> Iterator[DownloadProgress]:
    """A rich progress display for downloads; yields the callback for `belay_packages.downloaders.DownloadContext`."""
    with bytes_progress(console, "[bold]download[/] {task.description}") as bar:
        tasks: dict[str, Any] = {}

        def progress(label: str, done: int, total: Optional[int]) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total)
            bar.update(tasks[label], completed=done, total=total)

        yield progress
