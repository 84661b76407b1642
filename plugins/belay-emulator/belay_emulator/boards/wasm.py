r"""The ``wasm`` board: MicroPython's WebAssembly port under Node.js.

The npm package ``@micropython/micropython-webassembly-pyscript`` (pinned in ``node/package-lock.json``)
is installed with ``npm ci`` into ``${XDG_CACHE_HOME:-~/.cache}/belay/emulator/wasm-<version>/`` on first
use; ``node/board.mjs`` then serves it on stdin/stdout like a board's serial line (raw-paste, soft
reset, Ctrl-C and a board-like flash are added there).

Line ends are a board's. The port's lexer already takes code's ``\r\n`` as one newline. Program output
is cooked as by a board's ``mp_hal_stdout_tx_strn_cooked`` (every ``\n`` sent as ``\r\n``, so
``print("a\r\nb")`` arrives as ``a\r\r\nb\r\n``; the port itself cooks only its tracebacks), and
protocol text (banners, ``OK``, ``\x04``, raw-paste answers, prompts, echo) keeps its bytes. Unlike a
board, ``sys.stdout.buffer.write`` is cooked too.

A firmware crash (the WebAssembly code throws, e.g. when compiling very deep nesting overflows the JS
stack; the interpreter is dead after it) ends the process at once, with a line on stderr: the host sees
the line close (``belay_core.ConnectionLost``) instead of waiting for an answer. The flash is written
back first.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

VERSION = "1.27.0"
"""Version of the npm package ``@micropython/micropython-webassembly-pyscript`` this board runs."""

PACKAGE = "@micropython/micropython-webassembly-pyscript"
MIN_NODE = (18, 0)
NODE_DIR = Path(__file__).resolve().parent.parent / "node"
"""Shipped ``package.json``, ``package-lock.json`` and ``board.mjs``."""


def cache_dir() -> Path:
    """Folder the npm package is installed into (it holds ``node_modules``).

    Returns
    -------
    Path
        ``${XDG_CACHE_HOME:-~/.cache}/belay/emulator/wasm-<VERSION>``.
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "belay" / "emulator" / f"wasm-{VERSION}"


def _installed(where: Path) -> bool:
    return (where / "node_modules" / PACKAGE / "micropython.wasm").is_file()


def _node() -> Optional[str]:
    return shutil.which("node") or shutil.which("nodejs")


def _node_version(node: str) -> Optional[tuple[int, int]]:
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"v(\d+)\.(\d+)", out.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def unavailable() -> Optional[str]:
    """Say why this board cannot run here.

    Returns
    -------
    str or None
        ``None`` when Node.js >= 18 is present and the npm package is installed or installable (npm
        present); else a one-line reason naming what to install.
    """
    node = _node()
    version = _node_version(node) if node else None
    if version is None or version < MIN_NODE:
        found = f" (found v{version[0]}.{version[1]})" if version else ""
        return f"Node.js >= {MIN_NODE[0]} not found{found}: install it (apt-get install nodejs)"
    if not _installed(cache_dir()) and shutil.which("npm") is None:
        return f"npm not found, needed once to install {PACKAGE}@{VERSION}: install it (apt-get install npm)"
    return None


def install() -> str:
    """Install the pinned npm package into `cache_dir` unless it is there already.

    Safe when several processes race: each installs into its own temporary folder next to the target
    and renames it into place; the first rename wins and the others discard their copy. npm's output
    goes to stderr, never to stdout (which may be a board's serial line).

    Returns
    -------
    str
        A one-line message saying where the package is.

    Raises
    ------
    RuntimeError
        When npm is missing or ``npm ci`` fails.
    """
    target = cache_dir()
    if _installed(target):
        return f"{PACKAGE}@{VERSION} is installed in {target}"
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"npm not found, needed to install {PACKAGE}@{VERSION}: install it (apt-get install npm)")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(NODE_DIR / name, staging / name)
        result = subprocess.run(
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=staging,
            stdin=subprocess.DEVNULL,
            stdout=sys.stderr.fileno(),
            check=False,
        )
        if result.returncode != 0 or not _installed(staging):
            raise RuntimeError(f"npm ci of {PACKAGE}@{VERSION} failed (exit code {result.returncode})")
        try:
            staging.rename(target)
        except OSError:
            if not _installed(target):  # not a lost race: a real failure
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return f"{PACKAGE}@{VERSION} installed in {target}"


def command(fs: Optional[Path] = None) -> list[str]:
    """Build the command line that serves the board (the package must be installed).

    Parameters
    ----------
    fs
        Host folder holding the board's flash, or ``None`` for a flash in memory only.

    Returns
    -------
    list of str
        ``node board.mjs PACKAGE_DIR [--fs DIR]``.
    """
    node = _node()
    if node is None:
        raise RuntimeError("Node.js not found: install it (apt-get install nodejs)")
    argv = [node, str(NODE_DIR / "board.mjs"), str(cache_dir())]
    if fs is not None:
        argv += ["--fs", str(Path(fs).resolve())]
    return argv


def serve(fs: Optional[Path]) -> int:
    """Serve the board on this process's stdin/stdout until stdin closes.

    Installs the npm package first if needed (messages on stderr). When stdin is not a terminal the
    process becomes Node.js (``os.execvp``), so no Python copy loop and no extra process remain; on a
    terminal, the terminal is put in raw mode around a child process and restored after.

    Parameters
    ----------
    fs
        Host folder holding the board's flash (loaded at start, written back on change), or ``None``.

    Returns
    -------
    int
        The exit code (only returned when the board ran as a child or could not start).
    """
    if not _installed(cache_dir()):
        print(f"belay-emulator: installing {PACKAGE}@{VERSION} (first use of the wasm board)...", file=sys.stderr)
        try:
            print(f"belay-emulator: {install()}", file=sys.stderr)
        except (OSError, RuntimeError) as exc:
            print(f"belay-emulator: {exc}", file=sys.stderr)
            return 1
    try:
        argv = command(fs)
    except RuntimeError as exc:
        print(f"belay-emulator: {exc}", file=sys.stderr)
        return 2
    sys.stdout.flush()
    sys.stderr.flush()
    if not os.isatty(0):
        os.execvp(argv[0], argv)
    return _serve_on_terminal(argv)


def _serve_on_terminal(argv: list[str]) -> int:
    import termios
    import tty

    saved = termios.tcgetattr(0)
    try:
        tty.setraw(0)
        return subprocess.call(argv)
    finally:
        termios.tcsetattr(0, termios.TCSADRAIN, saved)
