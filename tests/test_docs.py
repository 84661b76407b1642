"""Meta-tests: every hook is documented with its exact signature and an example, and is tested."""

from __future__ import annotations

import inspect
import os
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


DOCS_SITE = "https://belay-core.readthedocs.io/en/latest/"


def _block(text: str, heading: str) -> list[str]:
    block = text.split(heading, 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.strip().splitlines() if line.strip()]


def test_readme_quick_start_is_for_someone_who_pip_installs_and_its_commands_work():
    import shlex

    from click.testing import CliRunner

    from belay_core.cli import cli

    commands = _block((ROOT / "README.md").read_text(), "## Quick start")
    assert commands[0] == "pip install belay-core belay-emulator belay-serial"
    outputs = []
    for command in commands[1:]:
        args = shlex.split(command)
        assert args[0] == "belay", command
        result = CliRunner().invoke(cli, args[1:])
        assert result.exit_code == 0, (command, result.output)
        outputs.append(result.stdout)
    assert outputs[0] == "2\n" and outputs[1] == "42\n" and "micropython" in outputs[2]


def test_readme_developing_has_the_test_command_ci_runs():
    commands = _block((ROOT / "README.md").read_text(), "## Developing")
    assert commands == ['pip install "hatch>=1.16" && hatch run demo', "hatch run test"]
    assert "hatch run test -q -p no:randomly" in (ROOT / ".ci" / "run").read_text()


def test_readme_links_to_the_docs_are_absolute_and_lead_to_pages():
    # The README is also the package page, where relative links break.
    readme = (ROOT / "README.md").read_text()
    assert re.findall(r"\]\((?!https?://)[^)#]+\)", readme) == []  # no relative link at all
    pages = re.findall(re.escape(DOCS_SITE) + r"([a-z0-9-]+)/(?:#([a-z0-9-]+))?\)", readme)
    assert len(pages) >= 15
    for page, anchor in pages:
        source = ROOT / "docs" / f"{page}.md"
        assert source.is_file(), page
        if anchor:
            headings = re.findall(r"^#+ (.+)$", source.read_text(), re.M)
            slugs = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}
            assert anchor in slugs, (page, anchor)


def test_the_docs_site_address_is_the_one_the_readme_links_to():
    config = (ROOT / "mkdocs.yml").read_text()
    assert f"site_url: {DOCS_SITE}" in config
    assert f'Documentation = "{DOCS_SITE}"' in (ROOT / "pyproject.toml").read_text()


def test_shell_completion_lists_plugin_commands():
    import subprocess
    import sys

    env = {**os.environ, "_BELAY_COMPLETE": "bash_complete", "COMP_WORDS": "belay m", "COMP_CWORD": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "belay_core.cli"], env=env, capture_output=True, text=True, timeout=60
    )
    assert "plain,mount" in result.stdout.splitlines()
    assert "plain,mpy-cross" in result.stdout.splitlines()  # a plugin's command, without loading it


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
