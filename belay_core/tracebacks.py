"""Board tracebacks: pointing them at host files and lines, and keeping the exception's class."""

from __future__ import annotations

import builtins
import linecache
import re
from collections.abc import Mapping
from typing import Optional

from attrs import define

from belay_core.errors import DeviceError

_FRAME = re.compile(r'^(\s*)File "<stdin>", line (\d+), in (\S+)\s*$')


@define(frozen=True)
class SourceOrigin:
    """Where code sent to the board came from on the host.

    Parameters
    ----------
    file
        The host file.
    line
        Host line of the code's first line on the board (line 1 of ``<stdin>``).
    name
        The host function it came from, shown for ``<module>`` frames (setup bodies run at module level).
    """

    file: str
    line: int
    name: Optional[str] = None

    def host_line(self, board_line: int) -> int:
        """Host line of ``board_line`` (1-based) of the code sent."""
        return self.line + board_line - 1


_DEF = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+([A-Za-z_][A-Za-z0-9_]*)", re.M)


def defined_functions(source: str) -> list[str]:
    """Names of the functions (and methods) ``source`` defines with ``def``.

    Examples
    --------
    >>> defined_functions("def f():\\n    def g(): pass\\nclass C:\\n    async def m(self): pass\\n")
    ['f', 'g', 'm']
    """
    return _DEF.findall(source)


def remap(traceback: str, functions: Mapping[str, SourceOrigin], module: Optional[SourceOrigin] = None) -> str:
    """Rewrite ``File "<stdin>"`` frames of a board traceback to host files and lines.

    Parameters
    ----------
    traceback
        The board's traceback text.
    functions
        Origins of functions defined on the board, by name: frames ``in NAME`` are mapped with them.
    module
        Origin of the code of this very call: frames ``in <module>`` are mapped with it.

    Returns
    -------
    str
        The traceback with mapped frames followed by their host source line, like CPython's.
    """
    lines = []
    for line in traceback.replace("\r\n", "\n").split("\n"):
        match = _FRAME.match(line)
        origin = None
        if match:
            name = match.group(3)
            origin = module if name == "<module>" else functions.get(name)
        if match is None or origin is None:
            lines.append(line)
            continue
        indent, board_line = match.group(1), int(match.group(2))
        host_line = origin.host_line(board_line)
        name = origin.name if match.group(3) == "<module>" and origin.name else match.group(3)
        lines.append(f'{indent}File "{origin.file}", line {host_line}, in {name}')
        source = linecache.getline(origin.file, host_line).strip()
        if source:
            lines.append(f"{indent}  {source}")
    return "\n".join(lines)


_CLASSES: dict[str, type[DeviceError]] = {}


def device_error(traceback: str) -> DeviceError:
    """Build the `DeviceError` for a board traceback, keeping the board's exception class.

    A board ``ValueError`` gives a `DeviceError` that is also a `ValueError` (and so for every builtin
    exception class), so ``except ValueError:`` works on the host.
    """
    name = DeviceError(traceback).exception_name
    cls = _CLASSES.get(name or "")
    if cls is None and name:
        builtin = getattr(builtins, name, None)
        if isinstance(builtin, type) and issubclass(builtin, Exception) and not issubclass(builtin, DeviceError):
            try:
                cls = type(f"Device{name}", (DeviceError, builtin), {"__module__": "belay_core.errors"})
            except TypeError:  # an exception layout that cannot be mixed in
                cls = None
        if cls is not None:
            _CLASSES[name] = cls
    if cls is not None:
        try:
            return cls(traceback)
        except TypeError:  # an exception whose constructor needs more than a message
            pass
    return DeviceError(traceback)


_WRAPPER = re.compile(r'^\s*File "<stdin>", line \d+, in __belay_x\s*$')
_STDIN_MODULE = re.compile(r'^\s*File "<stdin>", line \d+, in <module>\s*$')


def unwrap_exit_frames(traceback: str) -> str:
    """Remove the frames of Belay's ``SystemExit`` catcher from a board traceback.

    Code that may call ``sys.exit()`` runs through the board helper ``__belay_x`` (see
    `belay_core.source.catch_exit`), which compiles it as ``<stdin>``: its frames are dropped, with the
    ``<module>`` frame that called it. Firmware without ``compile`` (the micro:bit's) runs it as
    ``<string>``: then, and only then, ``<string>`` frames are named ``<stdin>`` again.
    """
    if "__belay_x" not in traceback:
        return traceback
    lines = traceback.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    rename = False
    after_wrapper = False
    for line in lines:
        if _WRAPPER.match(line):
            if kept and _STDIN_MODULE.match(kept[-1]):
                kept.pop()
            after_wrapper = True
            continue
        if after_wrapper and line.lstrip().startswith("File "):
            rename = line.lstrip().startswith('File "<string>"')
            after_wrapper = False
        kept.append(line)
    if rename:
        kept = [line.replace('File "<string>"', 'File "<stdin>"') for line in kept]
    return "\n".join(kept)
