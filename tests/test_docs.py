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
