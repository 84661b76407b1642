"""The emulated boards.

Each module ``belay_emulator.boards.<name>`` exposes:

``unavailable() -> str | None``
    ``None`` when the board can run here, else a one-line reason with what to install.
``serve(fs: pathlib.Path | None) -> int``
    Serve the board on this process's stdin/stdout until stdin closes; return the exit code.
"""

from __future__ import annotations

import importlib
from types import ModuleType

BOARDS: tuple[str, ...] = ("unix", "wasm", "microbit")
"""Board names, in order of preference for ``emu:``."""


def load(name: str) -> ModuleType:
    """Import the module of board ``name``.

    Parameters
    ----------
    name
        One of `BOARDS`.

    Returns
    -------
    ModuleType
        The board module with ``unavailable()`` and ``serve()``.
    """
    if name not in BOARDS:
        raise ValueError(f"unknown board {name!r}; choose one of: {', '.join(BOARDS)}")
    return importlib.import_module(f"belay_emulator.boards.{name}")


def best() -> str:
    """Name of the best board that can run here (unix, else wasm, else microbit).

    Raises
    ------
    RuntimeError
        When no board can run, with every board's reason.
    """
    reasons = []
    for name in BOARDS:
        reason = load(name).unavailable()
        if reason is None:
            return name
        reasons.append(f"  {name}: {reason}")
    raise RuntimeError("no emulated board can run here:\n" + "\n".join(reasons))
