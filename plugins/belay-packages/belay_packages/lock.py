"""``belay.lock``: what each dependency resolved to, and the sha256 of every file it installs.

```toml
version = 1

[[package]]
group = "main"
name = "aiohttp"

[[package.source]]
uri = "aiohttp"
rename_to_init = true
resolved = "aiohttp==0.0.5 base64==3.3.6"

[package.source.files]
"aiohttp/__init__.py" = "5f2c…"
```

File paths are relative to the group's folder (the board's ``/lib``). ``develop`` sources are
recorded without files: they are used as they are on disk.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from belay_core.errors import BelayError
from belay_packages.errors import LockError
from belay_packages.project import BelayConfig, DependencySource

LOCK_NAME = "belay.lock"
LOCK_VERSION = 1
HEADER = "This file is written by belay (belay lock, belay update, belay add); do not edit it by hand."


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LockedSource(_Model):
    """One source of a locked package."""

    uri: str
    develop: bool = False
    rename_to_init: bool = False
    resolved: Optional[str] = None
    files: dict[str, str] = {}

    def key(self) -> tuple[str, bool, bool]:
        """What must match the configuration."""
        return (self.uri, self.develop, self.rename_to_init)


class LockedPackage(_Model):
    """A package of a group, with its sources."""

    group: str
    name: str
    source: list[LockedSource] = Field(default_factory=list)

    @property
    def files(self) -> dict[str, str]:
        """Every file of every non-develop source: path in the group folder → sha256."""
        merged: dict[str, str] = {}
        for source in self.source:
            merged.update(source.files)
        return merged


class LockFile(_Model):
    """The whole lock file."""

    version: int = LOCK_VERSION
    package: list[LockedPackage] = Field(default_factory=list)

    def get(self, group: str, name: str) -> Optional[LockedPackage]:
        """The locked package, or None."""
        for package in self.package:
            if package.group == group and package.name == name:
                return package
        return None

    def group(self, group: str) -> list[LockedPackage]:
        """The locked packages of ``group``."""
        return [package for package in self.package if package.group == group]


def sha256(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def source_key(source: DependencySource) -> tuple[str, bool, bool]:
    """What of a configured source must match its lock entry."""
    return (source.uri, source.develop, source.rename_to_init)


def read_lock(path: Path) -> Optional[LockFile]:
    """The lock at ``path``, or None when there is none.

    Raises
    ------
    LockError
        When it cannot be read or is not a lock file this belay understands.
    """
    if not path.exists():
        return None
    from belay_packages.project import _read_toml

    try:
        data = _read_toml(path)
    except BelayError as exc:
        raise LockError(str(exc)) from None
    version = data.get("version")
    if isinstance(version, int) and version > LOCK_VERSION:
        raise LockError(f"{path}: lock format {version} is newer than this belay understands ({LOCK_VERSION}): upgrade")
    try:
        return LockFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors(include_url=False)
        )
        raise LockError(f"{path}: not a valid lock file ({problems}); delete it and run belay lock") from None


def write_lock(path: Path, lock: LockFile) -> None:
    """Write ``lock`` to ``path`` as TOML, in a stable order (so diffs stay small)."""
    import tomlkit

    document = tomlkit.document()
    document.add(tomlkit.comment(HEADER))
    document.add("version", lock.version)
    packages = tomlkit.aot()
    for package in lock.package:
        table = tomlkit.table()
        table.add("group", package.group)
        table.add("name", package.name)
        sources = tomlkit.aot()
        for source in package.source:
            entry = tomlkit.table()
            entry.add("uri", source.uri)
            if source.develop:
                entry.add("develop", True)
            if source.rename_to_init:
                entry.add("rename_to_init", True)
            if source.resolved is not None:
                entry.add("resolved", source.resolved)
            if source.files:
                files = tomlkit.table()
                for name in sorted(source.files):
                    files.add(name, source.files[name])
                entry.add("files", files)
            sources.append(entry)
        table.add("source", sources)
        packages.append(table)
    if lock.package:
        document.add("package", packages)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(tomlkit.dumps(document), encoding="utf-8")
    temporary.replace(path)


def compare(config: BelayConfig, lock: Optional[LockFile]) -> list[str]:
    """How ``pyproject.toml`` and the lock disagree: one line per difference, empty when they agree."""
    if lock is None:
        return [f"there is no {LOCK_NAME}"] if any(True for _ in config.sources()) else []
    problems = []
    configured = set()
    for group_name, group in config.groups.items():
        for name, sources in group.dependencies.items():
            configured.add((group_name, name))
            locked = lock.get(group_name, name)
            if locked is None:
                problems.append(f"{group_name}.{name}: in pyproject.toml but not in {LOCK_NAME}")
            elif [source_key(s) for s in sources] != [s.key() for s in locked.source]:
                problems.append(f"{group_name}.{name}: its sources in pyproject.toml differ from {LOCK_NAME}")
    for package in lock.package:
        if (package.group, package.name) not in configured:
            problems.append(f"{package.group}.{package.name}: in {LOCK_NAME} but no longer in pyproject.toml")
    return problems


__all__ = [
    "LOCK_NAME",
    "LockError",
    "LockFile",
    "LockedPackage",
    "LockedSource",
    "compare",
    "read_lock",
    "sha256",
    "source_key",
    "write_lock",
]
