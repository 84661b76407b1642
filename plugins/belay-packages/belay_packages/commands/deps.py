"""``belay add``, ``belay update``, ``belay lock`` and ``belay clean``: the project's dependencies."""

from __future__ import annotations

import re
import sys
from pathlib import PurePosixPath
from typing import Any, Optional

import click

from belay_core.commands.console import err_console, reporting
from belay_packages.commands.progress import download_progress

_INDEX_SPEC = re.compile(r"^([A-Za-z0-9_-]+)(?:@([A-Za-z0-9_.+-]+))?$")


def _name_from_uri(uri: str) -> Optional[str]:
    """A package name guessed from a source: its last path component without suffix or ``@ref``."""
    tail = uri.rstrip("/")
    last = tail.rsplit("/", 1)[-1]
    if "@" in last:
        tail = tail[: tail.rindex("@")].rstrip("/")
    parts = PurePosixPath(tail.split(":", 1)[-1] if not re.match(r"^[A-Za-z]:[\\/]", tail) else tail).parts
    if not parts:
        return None
    stem = PurePosixPath(parts[-1]).stem
    if stem in ("package", "__init__") and len(parts) > 1:
        stem = PurePosixPath(parts[-2]).stem
    name = stem.replace("-", "_").replace(".", "_")
    return name if name.isidentifier() else None


def _dependency_value(uri: str, develop: bool, rename_to_init: bool) -> Any:
    import tomlkit

    if not develop and rename_to_init:
        return uri
    table = tomlkit.inline_table()
    table.append("uri", uri)
    if develop:
        table.append("develop", True)
    if not rename_to_init:
        table.append("rename_to_init", False)
    return table


@click.command("add")
@click.argument("name_or_uri", metavar="NAME-OR-URI")
@click.argument("uri", required=False)
@click.option("-g", "--group", default="main", show_default=True, help="The dependency group to add it to.")
@click.option("--develop", is_flag=True, help="A local source used as it is on disk (never locked or copied).")
@click.option(
    "--no-rename-to-init", "no_rename", is_flag=True, help="Keep a single-file source's name inside its package."
)
def add(name_or_uri: str, uri: Optional[str], group: str, develop: bool, no_rename: bool) -> None:
    """Download a dependency, then add it to pyproject.toml (keeping its formatting) and belay.lock.

    NAME-OR-URI is a package-index name (optionally NAME@VERSION), or a source whose last path
    component names the package; with URI, NAME-OR-URI is the package name.

    \b
    Examples:
      belay add aiohttp                        # latest from the MicroPython package index
      belay add requests@0.10.0
      belay add ssd1306 github:user/repo/ssd1306.py@v1.0
      belay add https://example.com/drivers/bme280.py --group dev
      belay add mylib ../mylib --develop
    """
    import tomlkit

    from belay_packages.manager import Project, lock, materialize
    from belay_packages.project import parse_config

    console = err_console()
    with reporting():
        project = Project.load()
        if uri is not None:
            name, value_uri = name_or_uri, uri
        elif (match := _INDEX_SPEC.match(name_or_uri)) and not develop:
            name, value_uri = match.group(1), match.group(2) or "*"
        else:
            guessed = _name_from_uri(name_or_uri)
            if guessed is None:
                raise click.UsageError(f"cannot tell a package name from {name_or_uri!r}: give it, belay add NAME URI")
            name, value_uri = guessed, name_or_uri
        if not name.isidentifier():
            raise click.UsageError(f"{name!r} is not a valid package name (it must be a Python identifier)")
        if any(package == name and g == group for g, package, _ in project.config.sources()):
            raise click.UsageError(f"{name} is already a dependency of group {group!r} in {project.pyproject}")
        if group != "main" and group not in project.config.group and not group.isidentifier():
            raise click.UsageError(f"group name {group!r} must be a Python identifier")

        text = project.pyproject.read_text(encoding="utf-8")
        document = tomlkit.parse(text)
        tool = document.setdefault("tool", tomlkit.table(is_super_table=True))
        belay = tool.setdefault("belay", tomlkit.table())
        if group == "main":
            table = belay.setdefault("dependencies", tomlkit.table())
        else:
            groups = belay.setdefault("group", tomlkit.table(is_super_table=True))
            table = groups.setdefault(group, tomlkit.table()).setdefault("dependencies", tomlkit.table())
        table[name] = _dependency_value(value_uri, develop, not no_rename)
        new_project = Project(project.pyproject, parse_config(belay.unwrap(), project.pyproject))

        with download_progress(console) as progress, new_project.context(progress) as context:
            new_lock, contents = lock(
                new_project, context, report=lambda line: console.print(f"  {line}", markup=False)
            )
            project.pyproject.write_text(tomlkit.dumps(document), encoding="utf-8")
            new_project.write_lock(new_lock)
            materialize(new_project, context, new_lock, [group], contents)
    console.print(f"[green]added[/] {name} to group {group} ({project.pyproject.name}, belay.lock)")


@click.command("update")
@click.argument("packages", nargs=-1)
def update(packages: tuple[str, ...]) -> None:
    """Resolve dependencies again (all, or only PACKAGES) and rewrite belay.lock.

    Index packages move to their latest (or configured) version, github:/gitlab: sources to the
    current commit of their ref; everything downloaded is checked to parse.

    \b
    Examples:
      belay update
      belay update aiohttp ssd1306
    """
    from belay_packages.manager import Project, relock

    console = err_console()
    with reporting():
        project = Project.load()
        before = project.read_lock()
        with download_progress(console) as progress, project.context(progress) as context:
            new_lock = relock(project, context, refresh=set(packages) if packages else True)
        changed = 0
        for package in new_lock.package:
            old = before.get(package.group, package.name) if before is not None else None
            if old != package:
                changed += 1
                pins = "; ".join(s.resolved for s in package.source if s.resolved) or f"{len(package.files)} files"
                console.print(f"  [green]updated[/] {package.group}.{package.name}: {pins}")
    console.print(f"{changed} package{'s' if changed != 1 else ''} changed; belay.lock written")


@click.command("lock")
@click.option("--check", is_flag=True, help="Change nothing; exit 1 when pyproject.toml and belay.lock disagree.")
@click.option("--json", "as_json", is_flag=True, help="With --check: print the result as JSON (docs/project.md).")
def lock_(check: bool, as_json: bool) -> None:
    """Write belay.lock: resolve new or changed dependencies, keep the others' pins.

    \b
    Examples:
      belay lock
      belay lock --check        # in CI
    """
    from rich.markup import escape

    from belay_packages.lock import compare
    from belay_packages.manager import Project, relock

    console = err_console()
    if as_json and not check:
        raise click.UsageError("--json goes with --check")
    with reporting():
        project = Project.load()
        if check:
            problems = compare(project.config, project.read_lock())
            if as_json:
                import json

                click.echo(json.dumps({"matches": not problems, "problems": problems}, indent=2))
                sys.exit(1 if problems else 0)
            for problem in problems:
                console.print(f"[red]{escape(problem)}[/]")
            if problems:
                console.print("run belay lock to update belay.lock")
                sys.exit(1)
            console.print("belay.lock matches pyproject.toml")
            return
        with download_progress(console) as progress, project.context(progress) as context:
            new_lock = relock(project, context, report=lambda line: console.print(f"  {line}", markup=False))
    console.print(f"belay.lock written ({len(new_lock.package)} packages)")


@click.command("clean")
def clean() -> None:
    """Remove downloaded dependencies that pyproject.toml no longer names (and their belay.lock entries).

    \b
    Example:
      belay clean
    """
    from belay_packages.manager import Project
    from belay_packages.manager import clean as clean_project

    console = err_console()
    with reporting():
        project = Project.load()
        removed = clean_project(project)
    for path in removed:
        console.print(f"[red]removed[/] {path}")
    console.print(f"{len(removed)} removed from {project.config.dependencies_path}")
