"""``belay new`` (alias ``belay init``): a project template, or the missing sections of an existing one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

import click

from belay_core.commands.console import err_console

PYPROJECT = """\
[project]
name = "{project}"
version = "0.1.0"
description = "A MicroPython project managed by Belay."

{belay}"""

BELAY_SECTION = """\
[tool.belay]
name = "{name}"

[tool.belay.dependencies]
# aiohttp = "*"                               # latest from the MicroPython package index
# requests = "0.10.0"                         # an exact version from the index
# ssd1306 = "github:user/repo/ssd1306.py"     # a file from GitHub (pip install belay-github)

[tool.belay.group.dev]
optional = true

[tool.belay.group.dev.dependencies]
"""

MAIN = '''\
"""Runs at boot once installed as /main.py: belay install -d SPEC --main main.py."""

import {name}

{name}.hello()
'''

PACKAGE = '''\
"""The {name} package: synced to /{name} on the board by belay install."""


def hello():
    print("Hello from {name}!")
'''

README = """\
# {project}

A MicroPython project managed by [Belay](https://pypi.org/project/belay-core/).

```console
belay add aiohttp                          # a dependency from the MicroPython package index
belay install -d emu: --main main.py --follow
belay install -d /dev/ttyUSB0 --main main.py
```

Dependencies are declared in `pyproject.toml` under `[tool.belay.dependencies]`, pinned in
`belay.lock` (commit it) and downloaded to `.belay/` (ignore it).
"""

GITIGNORE = """\
.belay/
__pycache__/
"""


def _package_name(text: str) -> str:
    """``text`` (a folder or ``[project] name``) as a Python identifier: ``"My-App"`` becomes ``"my_app"``.

    Every run of characters other than ASCII letters and digits becomes one ``_``; a leading digit gets
    a ``_`` before it; nothing usable left gives ``"app"``.
    """
    name = re.sub(r"[^0-9a-z]+", "_", text.strip().lower()).strip("_") or "app"
    return f"_{name}" if name[0].isdigit() else name


def _project_name(document: Any) -> Optional[str]:
    """``[project] name`` of a parsed ``pyproject.toml``, when it is a non-empty string."""
    project = document.get("project")
    name = project.get("name") if hasattr(project, "get") else None
    return str(name) if isinstance(name, str) and name.strip() else None


def _cd_prefix(given: Path, path: Path) -> str:
    """``"cd DIR && "`` to reach the project from the working directory, or ``""`` when it is the working directory."""
    import shlex

    here = Path.cwd().resolve()
    if path == here:
        return ""
    try:
        shown = path.relative_to(here).as_posix()
    except ValueError:
        shown = str(given)
    return f"cd {shlex.quote(shown)} && "


@click.command("new")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option(
    "--name",
    help="The package name (default: [project] name of an existing pyproject.toml, else the folder's name, "
    "made a Python identifier: my-app becomes my_app).",
)
def new(path: Path, name: Optional[str]) -> None:
    """Create a Belay project in PATH (default: here), or add [tool.belay] to its pyproject.toml.

    A new project gets pyproject.toml with [tool.belay], main.py, a package folder, README.md and
    .gitignore; existing files are never overwritten. In a folder with a pyproject.toml only the
    missing [tool.belay] sections are added to it, keeping its formatting and comments; no other
    file is created, and the package is named after [project] name.

    \b
    Examples:
      belay new blink && cd blink
      belay init                 # in an existing project
    """
    import tomlkit
    from rich.markup import escape

    console = err_console()
    given = path
    path = path.resolve()
    pyproject = path / "pyproject.toml"
    document = None
    text = ""
    if pyproject.exists():
        text = pyproject.read_text(encoding="utf-8")
        try:
            document = tomlkit.parse(text)
        except tomlkit.exceptions.ParseError as exc:
            raise click.ClickException(f"{pyproject}: not valid TOML: {exc}") from None
    declared = _project_name(document) if document is not None else None
    package = name if name is not None else _package_name(declared or path.name)
    if not package.isidentifier():
        raise click.BadParameter(
            f"{package!r} is not a valid package name (it must be a Python identifier)", param_hint="--name"
        )
    cd = _cd_prefix(given, path)
    if document is not None:
        # An existing project: only its pyproject.toml gets what [tool.belay] lacks; no other file is made.
        tool = document.get("tool")
        if tool is not None and "belay" in tool:
            belay = tool["belay"]
            added = []
            if "dependencies" not in belay:
                belay["dependencies"] = tomlkit.table()
                added.append("[tool.belay.dependencies]")
            if added:
                pyproject.write_text(tomlkit.dumps(document), encoding="utf-8")
                console.print(f"[green]added[/] {escape(', '.join(added))} to {escape(str(pyproject))}")
            else:
                console.print(escape(f"{pyproject} already has [tool.belay]"))
        else:
            separator = "" if text.endswith("\n\n") or not text else ("\n" if text.endswith("\n") else "\n\n")
            pyproject.write_text(text + separator + BELAY_SECTION.format(name=package), encoding="utf-8")
            console.print(f"[green]added[/] {escape(f'[tool.belay] (name = {package!r}) to {pyproject}')}")
        console.print(escape(f"next: {cd}belay add PACKAGE, then belay install -d SPEC"))
        return
    path.mkdir(parents=True, exist_ok=True)
    pyproject.write_text(
        PYPROJECT.format(project=path.name, belay=BELAY_SECTION.format(name=package)), encoding="utf-8"
    )
    created = [pyproject]
    files = {
        path / "main.py": MAIN.format(name=package),
        path / package / "__init__.py": PACKAGE.format(name=package),
        path / "README.md": README.format(project=path.name),
        path / ".gitignore": GITIGNORE,
    }
    for file, content in files.items():
        if file.exists():
            continue
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(content, encoding="utf-8")
        created.append(file)
    for file in created:
        console.print(f"[green]created[/] {escape(str(file.relative_to(path.parent)))}")
    console.print(escape(f"next: {cd}belay install -d emu: --main main.py --follow"))
