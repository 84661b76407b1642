"""Claims on boards that hold across processes: a board is never used by two test processes at once.

A claim is an exclusive, non-blocking OS lock (``fcntl.flock``; ``msvcrt.locking`` on Windows) on a
file named after the board's spec in a folder every process on the host shares (``BELAY_LOCK_DIR``,
default ``<tempdir>/belay-boards``). The lock lasts as long as the process keeps the file open, and the
OS drops it when the process ends, however it ends: a crashed worker never leaves a board claimed.
The file holds who has the claim, for the message another process gets.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import IO, Optional

from attrs import define

if sys.platform == "win32":  # pragma: no cover - Windows
    import msvcrt

    def _lock(file: IO[str]) -> bool:
        try:
            msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _lock(file: IO[str]) -> bool:
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True


def lock_dir() -> Path:
    """The folder of the claim files: ``BELAY_LOCK_DIR``, else ``<tempdir>/belay-boards``."""
    return Path(os.environ.get("BELAY_LOCK_DIR") or Path(tempfile.gettempdir()) / "belay-boards")


def lock_path(spec: str) -> Path:
    """The claim file of the board at ``spec``."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", spec)[:40]
    digest = hashlib.sha256(spec.encode()).hexdigest()[:16]
    return lock_dir() / f"{readable}-{digest}.lock"


@define
class Claim:
    """A held claim on one board; `release` (or the end of the process) lets others have it."""

    spec: str
    file: Optional[IO[str]]

    def release(self) -> None:
        """Give the board back."""
        if self.file is not None:
            self.file.close()
            self.file = None


def try_claim(spec: str, holder: str) -> tuple[Optional[Claim], str]:
    """Claim the board at ``spec`` for ``holder`` (e.g. ``"gw1, pid 123"``) if no process has it.

    Returns
    -------
    tuple
        ``(claim, "")`` when claimed, else ``(None, who_has_it)``.
    """
    path = lock_path(spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    file = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - kept open: the open file is the claim
    if not _lock(file):
        file.seek(0)
        holder_now = file.read().strip() or "another process"
        file.close()
        return None, holder_now
    file.seek(0)
    file.truncate()
    file.write(holder)
    file.flush()
    return Claim(spec, file), ""


__all__ = ["Claim", "lock_dir", "lock_path", "try_claim"]
