"""``belay sync``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import click

from belay_core.commands.console import err_console, human_size, plural, reporting, sync_bytes_progress
from belay_core.commands.options import board, device_option, sync_options


@click.command("sync")
@device_option
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--dst", default="/", show_default=True, help="Board folder to sync into (nothing outside is touched).")
@click.option("--keep", multiple=True, metavar="PATH", help="Board path (relative to --dst) never removed; repeatable.")
@click.option("--ignore", multiple=True, metavar="PATTERN", help="gitignore-style pattern to skip; repeatable.")
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@click.option("--no-delete", is_flag=True, help="Never remove board files, even those FOLDER does not have.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON on stdout (shape: docs/sync.md).")
@click.option("-y", "--yes", is_flag=True, help="Do not ask before deleting (a sync to / asks at a terminal).")
@sync_options
def sync(
    spec: Optional[str],
    timeout: Optional[float],
    folder: Path,
    dst: str,
    keep: tuple[str, ...],
    ignore: tuple[str, ...],
    dry_run: bool,
    no_delete: bool,
    as_json: bool,
    yes: bool,
    sync_kwargs: dict[str, Any],
) -> None:
    """Sync FOLDER to the board, sending only files whose hash differs.

    Board files under --dst that FOLDER does not have are removed, except --keep (by default
    boot.py, webrepl_cfg.py and lib when --dst is /), or none with --no-delete. A sync to / that
    would delete files lists them and asks first when run at a terminal (-y/--yes does not ask). A
    .belayignore file in FOLDER adds ignore patterns.

    \b
    Example:
      belay sync -d emu: ./src --dst /app --ignore "*.md" --dry-run
    """
    from belay_core.sync import SyncCancelled, SyncPlan, normalize_dst

    console = err_console()
    ask = not yes and not dry_run and sys.stdin.isatty() and console.is_terminal

    with reporting(), board(spec, timeout) as device, sync_bytes_progress(console) as bar:

        def confirm(plan: SyncPlan) -> bool:
            bar.start(plan.upload_bytes, len(plan.upload))
            removing = [*plan.delete, *plan.rmdir]
            if not ask or not removing or normalize_dst(dst) != "/":
                return True
            bar.bar.stop()
            console.print(f"This sync to / would remove {plural(len(removing), 'path')} from the board:")
            for path in removing:
                console.print(f"  [red]{path}[/]", highlight=False)
            agreed = click.confirm("Remove them?", default=False, err=True)
            bar.bar.start()
            return agreed

        try:
            plan = device.sync(
                folder,
                dst=dst,
                keep=True if no_delete else (list(keep) if keep else None),
                ignore=list(ignore),
                **sync_kwargs,
                dry_run=dry_run,
                confirm=confirm,
                byte_progress=bar.advance,
            )
        except SyncCancelled:
            console.print("Cancelled: nothing on the board was changed.")
            sys.exit(1)
    if as_json:
        import json

        from attrs import asdict

        click.echo(json.dumps({**asdict(plan), "dry_run": dry_run}, indent=2))
        return
    would = "would " if dry_run else ""
    for label, paths, style in (
        ("upload", plan.upload, "green"),
        ("create", plan.mkdir, "cyan"),
        ("delete", plan.delete, "red"),
        ("remove", plan.rmdir, "red"),
    ):
        for path in paths:
            console.print(f"[{style}]{would}{label}[/] {path}", highlight=False)
    for path in plan.followed_links:
        console.print(f"[yellow]link[/] {path}: a link to a file, its target's content is sent", highlight=False)
    for path in plan.skipped_links:
        console.print(f"[yellow]link[/] {path}: a link to a folder, not followed", highlight=False)
    done = "would be " if dry_run else ""
    console.print(
        f"{len(plan.upload)} {done}uploaded ({human_size(plan.upload_bytes)}), {len(plan.unchanged)} unchanged, "
        f"{len(plan.delete)} {done}deleted (hasher: {plan.hasher})",
        highlight=False,
    )
