"""The boards a test run may use: ``--belay-device`` specs and a fleet file (TOML).

A fleet file lists boards, each a ``[[board]]`` table::

    [[board]]
    spec = "/dev/ttyACM0"
    name = "pico-1"          # optional: the spec is the name
    tags = ["rp2", "led"]    # optional: what @pytest.mark.belay(tags=...) asks for
    host = "lab-a"           # optional: only test processes on this host use it

``host`` lets one file describe a lab of several machines: each process keeps the boards whose host is
its own (``socket.gethostname()``, or ``BELAY_HOST`` when set) or not given.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class FleetError(Exception):
    """A fleet file or ``--belay-device`` list that cannot be used; the message is one line."""


class Board(BaseModel):
    """One board of the fleet.

    Parameters
    ----------
    spec
        How to reach it, as ``Device(spec)`` takes it: ``"/dev/ttyACM0"``, ``"emu:unix"``, ...
    name
        Its name in reports and JUnit XML (default: the spec).
    tags
        Free-form labels tests can ask for with ``@pytest.mark.belay(tags=[...])``.
    host
        The host it is attached to; ``None``: any host that reads this file.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    spec: str = Field(min_length=1)
    name: str = ""
    tags: tuple[str, ...] = ()
    host: Optional[str] = None

    @field_validator("name")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value:
            raise ValueError("a board name is one line")
        return value

    @property
    def label(self) -> str:
        """The name, else the spec."""
        return self.name or self.spec


class FleetFile(BaseModel):
    """The fleet file: ``[[board]]`` tables."""

    model_config = ConfigDict(extra="forbid")

    board: list[Board] = Field(default_factory=list)


def this_host() -> str:
    """The host name boards' ``host`` is compared with: ``BELAY_HOST``, else ``socket.gethostname()``."""
    return os.environ.get("BELAY_HOST") or socket.gethostname()


def read_fleet(path: Path) -> list[Board]:
    """The boards of a fleet file, every host's.

    Raises
    ------
    FleetError
        When the file cannot be read, is not TOML, or has a key or value that is not a board's.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.9 and 3.10
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    try:
        with path.open("rb") as file:
            data: dict[str, Any] = tomllib.load(file)
    except OSError as exc:
        raise FleetError(f"fleet file {path}: cannot read it: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise FleetError(f"fleet file {path}: not valid TOML: {exc}") from None
    try:
        boards = FleetFile.model_validate(data).board
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise FleetError(f"fleet file {path}: {where}: {message}") from None
    labels = [board.label for board in boards]
    twice = sorted({label for label in labels if labels.count(label) > 1})
    if twice:
        raise FleetError(f"fleet file {path}: two boards are named {twice[0]!r}; give each its own name")
    return boards


def fleet_boards(specs: Sequence[str], fleet: Optional[Path], *, host: Optional[str] = None) -> list[Board]:
    """The boards this process may use: the fleet file's for this host, then ``specs``.

    Parameters
    ----------
    specs
        ``--belay-device`` values (named after their spec).
    fleet
        The fleet file, if any.
    host
        The host to keep boards of (default `this_host`).
    """
    here = this_host() if host is None else host
    boards = [board for board in read_fleet(fleet) if board.host in (None, here)] if fleet else []
    known = {board.spec for board in boards}
    for spec in specs:
        if spec not in known:
            boards.append(Board(spec=spec))
            known.add(spec)
    return boards


__all__ = ["Board", "FleetError", "fleet_boards", "read_fleet", "this_host"]
