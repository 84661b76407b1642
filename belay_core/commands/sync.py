"""``belay sync``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import click

from belay_core.commands.console import err_console, reporting, sync_progress
from belay_core.commands.options import board, device_option, sync_options


@click.command("sync")
@device_option
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--dst", default="/", show_default=True, help="Board folder to sync into (nothing outside is touched).")
@click.option("--keep", multiple=True, metavar="PATH", help="Board path (relative to --dst) never removed; repeatable.")
@click.option("--ignore", multiple=True, metavar="PATTERN", help="gitignore-style pattern to skip; repeatable.")
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@sync_options
def sync(
    spec: Optional[str],
    timeout: Optional[float],
    folder: Path,
    dst: str,
    keep: tuple[str, ...],
    ignore: tuple[str, ...],
    dry_run: bool,
    sync_kwargs: dict[str, Any],
) -> None:
    """Sync FOLDER to the board, sending only files whose hash differs.

    Board files under --dst that FOLDER does not have are removed, except --keep (by default
    boot.py, webrepl_cfg.py and lib when --dst is /). A .belayignore file in FOLDER adds ignore
    patterns.

    \b
    Example:
      belay sync -d emu: ./src --dst /app --ignore "*.md" --dry-run
    """
    console = err_console()
    with reporting(), board(spec, timeout) as device, sync_progress(console) as progress:
        plan = device.sync(
            folder,
            dst=dst,
            keep=list(keep) if keep else None,
            ignore=list(ignore),
            **sync_kwargs,
            dry_run=dry_run,
            progress=progress,
        )
    verb = "would " if dry_run else ""
    done = "would be " if dry_run else ""
    for label, paths, style in (
        ("upload", plan.upload, "green"),
        ("create", plan.mkdir, "cyan"),
        ("delete", plan.delete, "red"),
        ("remove", plan.rmdir, "red"),
    ):
        for path in paths:
            console.print(f"[{style}]{verb}{label}[/] {path}", highlight=False)
    for path in plan.followed_links:
        console.print(f"[yellow]link[/] {path}: a link to a file, its target's content is sent", highlight=False)
    for path in plan.skipped_links:
        console.print(f"[yellow]link[/] {path}: a link to a folder, not followed", highlight=False)
    console.print(
        f"{len(plan.upload)} {done}uploaded, {len(plan.unchanged)} unchanged, {len(plan.delete)} {done}deleted "
        f"(hasher: {plan.hasher})",
        highlight=False,
    )
