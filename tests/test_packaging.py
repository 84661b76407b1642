"""belay-core alone: its wheel requires no package-manager dependency, and installed alone it drives boards.

The wheel is built offline (``pip wheel --no-build-isolation`` with the test environment's
hatchling) and installed with ``pip --no-deps`` into a fresh virtual environment; the kernel's
requirements are copied there from this environment's installed distributions, so nothing is
downloaded, and ``pip check`` proves they are all the wheel needs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from belay_core import __version__

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_MANAGER_DEPENDENCIES = {"httpx", "tomlkit", "platformdirs", "tomli", "pydantic"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """belay-core's wheel, built from this checkout."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            out,
            ROOT,
        ],
        check=True,
        capture_output=True,
    )
    [built] = out.glob("belay_core-*.whl")
    return built


def _requirements(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(name).decode()
    return [
        Requirement(line.split(":", 1)[1].strip()) for line in text.splitlines() if line.startswith("Requires-Dist:")
    ]


def _without_extras(requirements: list[Requirement]) -> list[Requirement]:
    return [r for r in requirements if r.marker is None or r.marker.evaluate({"extra": ""})]


def test_the_wheel_requires_no_package_manager_dependency(wheel: Path):
    required = {canonicalize_name(r.name) for r in _without_extras(_requirements(wheel))}
    assert required, "the wheel lists its requirements"
    assert required.isdisjoint(PACKAGE_MANAGER_DEPENDENCIES)
    assert {"click", "pluggy", "stevedore"} <= required


def test_the_all_extra_names_every_plugin_at_the_kernels_version(wheel: Path):
    everything = [r for r in _requirements(wheel) if r.marker is not None and r.marker.evaluate({"extra": "all"})]
    everything = [r for r in everything if not r.marker.evaluate({"extra": ""})]
    plugins = sorted(
        re.search(r'^name = "([^"]+)"', p.read_text(), re.M).group(1)
        for p in (ROOT / "plugins").glob("*/pyproject.toml")
    )
    assert sorted(r.name for r in everything) == plugins
    assert {str(r.specifier) for r in everything} == {f"=={__version__}"}


def _closure(requirements: list[Requirement]) -> Iterator[metadata.Distribution]:
    """This environment's installed distributions that ``requirements`` need, recursively."""
    seen: set[str] = set()
    todo = list(requirements)
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in seen or (requirement.marker is not None and not requirement.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        dist = metadata.distribution(name)
        yield dist
        todo.extend(Requirement(r) for r in dist.requires or [])


def _site_packages(venv: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    return Path(subprocess.run([_python(venv), "-c", code], capture_output=True, text=True, check=True).stdout.strip())


def _python(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / "python"


def test_the_kernel_alone_imports_and_lists_no_package_command(wheel: Path, tmp_path: Path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    pip = [sys.executable, "-m", "pip", "--python", str(_python(venv))]
    subprocess.run([*pip, "install", "-q", "--no-deps", "--no-index", wheel], check=True, capture_output=True)
    site = _site_packages(venv)
    for dist in _closure(_without_extras(_requirements(wheel))):
        for file in dist.files or []:
            source = Path(dist.locate_file(file))
            if source.is_file() and "__pycache__" not in file.parts and not str(file).startswith(".."):
                (site / file).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, site / file)
    check = subprocess.run([*pip, "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "BELAY_DEVICE")}
    code = (
        "import sys\nimport belay_core\nbelay_core.Device\n"
        "from belay_core.cli import main\nmain(['--help'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('httpx', 'tomlkit', 'platformdirs', 'pydantic', 'belay_packages'))\nprint('heavy:', heavy)\n"
    )
    imported = subprocess.run([_python(venv), "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "heavy: []" in imported.stdout

    belay = venv / ("Scripts" if os.name == "nt" else "bin") / "belay"
    listing = subprocess.run([belay, "--help"], capture_output=True, text=True, env=env, cwd=tmp_path, check=True)
    commands = listing.stdout.split("\nCommands:\n", 1)[1]
    assert "exec" in commands and "sync" in commands
    assert not re.search(r"^  (new|init|add|install|update|lock|clean|cache|run-local) ", commands, re.M)
    install = subprocess.run([belay, "install", "-d", "emu:"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert install.returncode == 2
    assert install.stderr.splitlines() == [
        "Error: 'belay install' comes from the belay-packages plugin, which is not installed: "
        "pip install belay-packages"
    ]
