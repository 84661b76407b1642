"""Meta-tests: every hook is documented with its exact signature and an example, and is tested."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from belay_core import hookspecs

ROOT = Path(__file__).resolve().parent.parent


def _hooks() -> list[str]:
    return [name for name, obj in vars(hookspecs).items() if name.startswith("belay_") and inspect.isfunction(obj)]


def test_every_hook_is_prefixed_and_listed_as_a_kind():
    hooks = _hooks()
    assert sorted(hooks) == sorted(f"belay_register_{kind}" for kind in hookspecs.KINDS)


def test_every_hook_has_a_docstring_example():
    for name in _hooks():
        doc = getattr(hookspecs, name).__doc__ or ""
        assert "Examples" in doc and "@hookimpl" in doc, name


def test_every_hook_is_in_the_reference_with_its_signature():
    reference = (ROOT / "docs" / "plugins.md").read_text()
    for name in _hooks():
        annotation = inspect.signature(getattr(hookspecs, name)).return_annotation
        signature = f"### `{name}() -> {annotation}`"
        assert signature in reference, signature
        section = reference.split(signature, 1)[1].split("\n### ", 1)[0]
        assert "```python" in section and f"def {name}():" in section, name


def test_every_hook_is_exercised_by_a_test():
    tests = (ROOT / "tests" / "test_plugins.py").read_text()
    for name in _hooks():
        assert re.search(rf"def {name}\(", tests), name


def test_readme_quick_start_is_two_commands():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line for line in block.strip().splitlines() if line.strip()]
    assert commands == ['pip install "hatch>=1.16" && hatch run demo', "hatch run test"]


def test_contributing_worked_example_plugin_works(tmp_path, monkeypatch):
    """Build the plugin CONTRIBUTING.md walks through, from its own code blocks, and run it."""
    import importlib
    import sys

    from click.testing import CliRunner
    from stevedore import ExtensionManager

    from belay_core.cli import cli
    from belay_core.plugins import reset_plugins

    text = (ROOT / "CONTRIBUTING.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    hooks = next(b for b in blocks if "belay_register_commands" in b)
    command = next(b for b in blocks if "def uptime" in b)
    package = tmp_path / "belay_uptime"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "hooks.py").write_text(hooks)
    (package / "cli.py").write_text(command)
    info = tmp_path / "belay_uptime-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: belay-uptime\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[belay]\nuptime = belay_uptime.hooks\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    ExtensionManager.ENTRY_POINT_CACHE.clear()
    reset_plugins()
    try:
        result = CliRunner().invoke(cli, ["uptime", "-d", "emu:unix"])
        assert result.exit_code == 0, result.output
        assert float(result.output) >= 0
    finally:
        ExtensionManager.ENTRY_POINT_CACHE.clear()
        reset_plugins()
        for name in [m for m in sys.modules if m.startswith("belay_uptime")]:
            del sys.modules[name]
