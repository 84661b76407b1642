"""The README's walk-through of a project (belay new, then belay install), run as written."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
"""The repository's root, where README.md is."""


def test_readme_project_walkthrough_runs(tmp_path, monkeypatch):
    """The README's `belay new` → `belay install -d emu:` block, run as written in a shell."""
    import os
    import shutil
    import subprocess
    import sys

    readme = (ROOT / "README.md").read_text()
    block = readme.split("## A MicroPython project", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    lines = [line for line in block.strip().splitlines() if line.strip()]
    assert lines[0] == "pip install belay-packages"  # installed here already
    lines = lines[1:]
    assert lines[0].startswith("belay new ") and lines[-1].startswith("belay install -d emu:")
    bindir = Path(sys.executable).parent
    assert shutil.which("belay", path=str(bindir)), "the belay console script is installed beside python"
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", "BELAY_CACHE_DIR": str(tmp_path / "c")}
    env.pop("BELAY_DEVICE", None)
    result = subprocess.run(
        ["bash", "-euc", "\n".join(lines)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "Hello from blink!" in result.stdout
    assert (tmp_path / "blink" / "belay.lock").is_file()
