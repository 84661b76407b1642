"""The ``emu:`` transport: an emulated board served by ``belay-emulator`` in a subprocess."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional
from urllib.parse import parse_qs

from belay_core.errors import DeviceSpecError
from belay_emulator import boards
from belay_exec.transport import ExecTransport

PREFIX = "emu:"


def parse_spec(spec: str) -> tuple[str, Optional[Path]]:
    """Split ``emu:BOARD?fs=DIR`` into the board name and the filesystem folder.

    Examples
    --------
    >>> parse_spec("emu:unix?fs=/tmp/board")
    ('unix', PosixPath('/tmp/board'))
    """
    body = spec[len(PREFIX) :] if spec.startswith(PREFIX) else spec
    name, _, query = body.partition("?")
    name = name.strip()
    try:
        params = parse_qs(query, strict_parsing=bool(query), keep_blank_values=False)
    except ValueError:
        raise DeviceSpecError(f"cannot read the options in {spec!r}; expected emu:BOARD?fs=DIR") from None
    unknown = set(params) - {"fs"}
    if unknown:
        raise DeviceSpecError(f"unknown option(s) {', '.join(sorted(unknown))} in {spec!r}; known: fs")
    fs = Path(params["fs"][-1]).expanduser() if "fs" in params else None
    if name and name not in boards.BOARDS:
        raise DeviceSpecError(f"unknown emulated board {name!r} in {spec!r}; choose one of: {', '.join(boards.BOARDS)}")
    return name, fs


class EmulatorTransport(ExecTransport):
    """An emulated board (``emu:unix``, ``emu:wasm``, ``emu:microbit``; ``emu:`` picks the best here).

    Parameters
    ----------
    spec
        ``emu:[BOARD][?fs=DIR]``; ``fs`` keeps the board's filesystem in a host folder.
    fs
        The same as ``?fs=`` in the spec.
    """

    def __init__(self, spec: str, *, fs: Optional[str] = None, **options: Any) -> None:
        self._fs_option = fs
        super().__init__(spec, **options)

    def command_from_spec(self, spec: str) -> Sequence[str]:
        name, fs = parse_spec(spec)
        if self._fs_option is not None:
            fs = Path(self._fs_option).expanduser()
        if not name:
            try:
                name = boards.best()
            except RuntimeError as exc:
                raise DeviceSpecError(str(exc)) from None
        reason = boards.load(name).unavailable()
        if reason is not None:
            raise DeviceSpecError(f"the emulated board {name!r} cannot run here: {reason}")
        self.board = name
        argv = [sys.executable, "-m", "belay_emulator", name]
        if fs is not None:
            argv += ["--fs", str(fs)]
        return argv

    def describe(self) -> str:
        return f"emulated board {self.board!r}"
