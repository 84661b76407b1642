"""A MicroPython project's ``[tool.belay]`` configuration in ``pyproject.toml``.

```toml
[tool.belay]
name = "my_project"
ignore = ["*.md"]

[tool.belay.dependencies]             # group "main"
aiohttp = "*"                         # latest from the MicroPython package index
requests = "1.0.0"                    # an exact version from the index
ssd1306 = "github:user/repo/ssd1306.py"
sensors = ["https://example.com/a.py", "https://example.com/b.py"]   # several sources, one package
mylib = {uri = "../mylib", develop = true}

[tool.belay.group.dev]
optional = true
[tool.belay.group.dev.dependencies]
tester = "github:user/tester"
```
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path, PureWindowsPath
from typing import Any, Optional, Union
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from belay_packages.errors import ConfigError

DEFAULT_PACKAGE_INDICES = ("https://micropython.org/pi/v2",)
"""Where ``name = "*"`` dependencies are looked up, in order."""

_VERSION = re.compile(r"^\d+(\.\d+)*$")
_RANGE_START = frozenset("^~<>=!")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DependencySource(_Model):
    """One source of a dependency.

    Parameters
    ----------
    uri
        Where it comes from: a local path (relative to the project), an ``http(s)`` URL, ``mip:NAME``,
        ``NAME@VERSION`` from the package index, ``github:user/repo[/path][@ref]``, ...
    develop
        A local source used in place (editable), not copied.
    rename_to_init
        A single-file source becomes the package's ``__init__.py``.
    """

    uri: str = Field(min_length=1)
    develop: bool = False
    rename_to_init: bool = False


def _index_uri(package: str, uri: str) -> str:
    """``"*"``/``"latest"`` → the index's package; ``"1.0.0"`` → ``package@1.0.0``; others unchanged."""
    if uri[:1] in _RANGE_START:
        raise ValueError(
            f"{package}: version ranges are not supported ({uri!r}): use '*' for the latest or an exact version"
        )
    if uri in ("*", "latest"):
        return package
    if _VERSION.match(uri):
        return f"{package}@{uri}"
    return uri


def _normalize_dependencies(dependencies: Any) -> Any:
    """Turn the three written forms of dependencies into lists of `DependencySource` fields."""
    if not isinstance(dependencies, dict):
        return dependencies  # pydantic reports the type
    out: dict[str, Any] = {}
    for package, value in dependencies.items():
        if isinstance(value, str):
            out[package] = [{"uri": _index_uri(package, value) if value else value, "rename_to_init": True}]
        elif isinstance(value, list):
            if any(isinstance(item, list) for item in value):
                raise ValueError(f"{package}: a list of sources cannot hold another list")
            out[package] = [{"uri": item} if isinstance(item, str) else item for item in value]
        elif isinstance(value, dict):
            value = dict(value)
            if isinstance(value.get("uri"), str) and value["uri"]:
                value["uri"] = _index_uri(package, value["uri"])
            value.setdefault("rename_to_init", True)
            out[package] = [value]
        else:
            raise ValueError(
                f"{package}: expected a string, a list of sources or a table {{uri = ...}}, got {type(value).__name__}"
            )
    return out


def _check_packages(dependencies: dict[str, list[DependencySource]]) -> dict[str, list[DependencySource]]:
    for package, sources in dependencies.items():
        if not package.isidentifier():
            raise ValueError(f"{package!r} is not a valid package name (it must be a Python identifier)")
        if not sources:
            raise ValueError(f"{package}: no source given")
        if sum(s.rename_to_init for s in sources) > 1:
            raise ValueError(f"{package}: more than one source is marked rename_to_init")
    return dependencies


class _WithDependencies(_Model):
    """A table with a ``dependencies`` sub-table in any of the written forms."""

    dependencies: dict[str, list[DependencySource]] = {}

    @field_validator("dependencies", mode="before")
    @classmethod
    def _normalize(cls, value: Any) -> Any:
        return _normalize_dependencies(value)

    @field_validator("dependencies")
    @classmethod
    def _check(cls, value: dict[str, list[DependencySource]]) -> dict[str, list[DependencySource]]:
        return _check_packages(value)


class Group(_WithDependencies):
    """A dependency group: ``[tool.belay.group.<name>]``."""

    optional: bool = False


class BelayConfig(_WithDependencies):
    """The ``[tool.belay]`` section.

    Parameters
    ----------
    name
        The project's package folder (synced to the board by ``belay install``).
    ignore
        gitignore-style patterns of files never synced.
    dependencies_path
        Where downloaded dependencies are kept, relative to the project.
    mpy_version
        ``"py"`` for source from the package index, or an mpy version (``"6"``) for compiled files.
    package_indices
        MicroPython package indices, tried in order.
    dependencies
        The ``main`` group's dependencies.
    group
        Other groups by name.
    """

    name: Optional[str] = None
    ignore: list[str] = []
    dependencies_path: Path = Path(".belay/dependencies")
    mpy_version: str = "py"
    package_indices: list[str] = list(DEFAULT_PACKAGE_INDICES)
    group: dict[str, Group] = {}

    @field_validator("name")
    @classmethod
    def _name(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not value.isidentifier():
            raise ValueError(f"{value!r} is not a valid package name (it must be a Python identifier)")
        return value

    @field_validator("dependencies_path")
    @classmethod
    def _dependencies_path(cls, value: Path) -> Path:
        # `belay clean` and `install` delete files there: never the project itself or anything above it.
        parts = value.as_posix().split("/")
        if value.is_absolute() or PureWindowsPath(value).drive or ".." in parts or value == Path("."):
            raise ValueError(
                f"{value.as_posix()!r} must be a folder inside the project, not the project folder or above it"
                " (the default is '.belay/dependencies')"
            )
        return value

    @field_validator("mpy_version")
    @classmethod
    def _mpy_version(cls, value: str) -> str:
        if value != "py" and not value.isdigit():
            raise ValueError(f"{value!r}: use 'py' for source or an mpy version number such as '6'")
        return value

    @field_validator("package_indices")
    @classmethod
    def _indices(cls, value: list[str]) -> list[str]:
        for url in value:
            parsed = urlparse(url)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise ValueError(f"{url!r} is not an http(s) URL")
        return value

    @model_validator(mode="after")
    def _groups(self) -> BelayConfig:
        if "main" in self.group:
            raise ValueError("put the main group's dependencies under [tool.belay.dependencies], not group.main")
        for name in self.group:
            if not name.isidentifier():
                raise ValueError(f"group name {name!r} must be a Python identifier")
        return self

    @property
    def groups(self) -> dict[str, Group]:
        """Every group, ``main`` first."""
        return {"main": Group(dependencies=self.dependencies), **self.group}

    def sources(self) -> Iterator[tuple[str, str, DependencySource]]:
        """``(group, package, source)`` for every dependency source."""
        for group_name, group in self.groups.items():
            for package, sources in group.dependencies.items():
                for source in sources:
                    yield group_name, package, source


def find_pyproject(start: Union[str, Path, None] = None) -> Path:
    """The nearest ``pyproject.toml`` from ``start`` (default: the working directory) upward.

    Raises
    ------
    ConfigError
        When there is none.
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    raise ConfigError(f"no pyproject.toml in {here} or any folder above it (belay new creates one)")


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.9 and 3.10
        import tomli as tomllib
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it: {exc.strerror or exc}") from None


def _config_error_line(path: Path, error: dict[str, Any]) -> str:
    keys = ["tool", "belay", *(str(part) for part in error.get("loc", ()))]
    key = ".".join(keys)
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    received = error.get("input")
    if error.get("type") == "extra_forbidden":
        message = "unknown key"
    elif error.get("type", "").endswith("_type") and received is not None:
        message += f" (got {type(received).__name__} {received!r})"
    return f"{path}: [{key}]: {message}"


def parse_config(data: dict[str, Any], path: Path) -> BelayConfig:
    """Validate a ``[tool.belay]`` table read from ``path`` (for messages)."""
    try:
        return BelayConfig.model_validate(data)
    except ValidationError as exc:
        lines = [_config_error_line(path, error) for error in exc.errors(include_url=False)]
        raise ConfigError("\n".join(lines)) from None


def load_config(path: Union[str, Path, None] = None) -> BelayConfig:
    """Read ``[tool.belay]`` from ``path``, or from the nearest ``pyproject.toml`` upward.

    A ``pyproject.toml`` without a ``[tool.belay]`` section gives the defaults.

    Raises
    ------
    ConfigError
        One line per problem, naming the file, the key and what is expected.
    """
    file = Path(path) if path is not None else find_pyproject()
    if file.is_dir():
        file = file / "pyproject.toml"
    data = _read_toml(file)
    tool = data.get("tool", {})
    section = tool.get("belay", {}) if isinstance(tool, dict) else {}
    if not isinstance(section, dict):
        raise ConfigError(f"{file}: [tool.belay] must be a table")
    return parse_config(section, file)
