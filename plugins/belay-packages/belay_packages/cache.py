"""The download cache: bytes keyed by a string, kept in the platform's user cache directory.

Only content that cannot change is cached: package-index files named by their hash, files and
archives of a pinned commit or version. ``BELAY_CACHE_DIR`` moves the cache (tests use it).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Optional

from attrs import define, field

CACHE_ENV = "BELAY_CACHE_DIR"


def cache_dir() -> Path:
    """Where the cache lives: ``$BELAY_CACHE_DIR``, else the user cache directory (``~/.cache/belay`` on Linux)."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return platformdirs.user_cache_path("belay", appauthor=False)


@define(frozen=True)
class CacheEntry:
    """One cached item.

    Parameters
    ----------
    key
        What it was stored under (usually the URL it came from).
    size
        Bytes.
    stored
        When it was stored (seconds since the epoch).
    path
        The file holding it.
    """

    key: str
    size: int
    stored: float
    path: Path


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@define
class Cache:
    """A folder of cached downloads.

    Examples
    --------
    >>> cache = Cache(Path(tmp))
    >>> cache.put("https://example.com/a.py", b"x = 1")
    >>> cache.get("https://example.com/a.py")
    b'x = 1'
    """

    root: Path = field(factory=cache_dir)

    def _path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()
        return self.root / "files" / digest[:2] / digest

    def get(self, key: str) -> Optional[bytes]:
        """The bytes stored under ``key``, or None."""
        try:
            return self._path(key).read_bytes()
        except OSError:
            return None

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (atomically: a crash never leaves half a file)."""
        path = self._path(key)
        _atomic_write(path, data)
        meta = {"key": key, "size": len(data), "stored": time.time()}
        _atomic_write(path.with_suffix(".json"), json.dumps(meta).encode())

    def entries(self) -> list[CacheEntry]:
        """Every cached item, oldest first."""
        found = []
        for meta_path in (self.root / "files").glob("*/*.json"):
            data_path = meta_path.with_suffix("")
            try:
                meta = json.loads(meta_path.read_text())
                size = data_path.stat().st_size
            except (OSError, ValueError):
                continue
            found.append(CacheEntry(str(meta.get("key", "?")), size, float(meta.get("stored", 0)), data_path))
        return sorted(found, key=lambda entry: entry.stored)

    def size(self) -> int:
        """Total bytes held."""
        return sum(entry.size for entry in self.entries())

    def clear(self) -> int:
        """Remove everything; returns how many items were removed."""
        count = len(self.entries())
        shutil.rmtree(self.root / "files", ignore_errors=True)
        return count


__all__ = ["CACHE_ENV", "Cache", "CacheEntry", "cache_dir"]
