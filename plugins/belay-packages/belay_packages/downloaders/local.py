"""Local sources: a file or folder on this computer, relative to the project folder or absolute.

Forms: ``./lib/x.py``, ``lib/pkg``, ``/abs/path``, ``~/code/x.py``, ``file:lib/x.py``, ``file:///abs/x.py``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Optional
from urllib.parse import unquote

from belay_packages.downloaders import Downloader, DownloadError, Fetched

SKIPPED_FOLDERS = frozenset({"__pycache__"})
"""Folder names never copied (besides every folder whose name starts with a dot, like ``.git``)."""

_WINDOWS_DRIVE_URL = re.compile(r"^/[A-Za-z]:[/\\]")


def local_path(uri: str, project: Path) -> Path:
    """The path a local source names.

    Parameters
    ----------
    uri
        ``path``, ``file:path`` or ``file://`` URL (percent-encoded, as URLs are).
    project
        The folder relative paths are relative to.

    Returns
    -------
    Path
        An absolute path (it may not exist).
    """
    if uri[:7].lower() == "file://":
        text = unquote(uri[7:])
        if text.lower().startswith("localhost/"):
            text = text[len("localhost") :]
        if _WINDOWS_DRIVE_URL.match(text):  # file:///C:/x.py
            text = text[1:]
    elif uri[:5].lower() == "file:":
        text = uri[5:]
    else:
        text = uri
    path = Path(text).expanduser()
    return path if path.is_absolute() else project / path


def _is_skipped(name: str) -> bool:
    return name.startswith(".") or name in SKIPPED_FOLDERS


def folder_files(folder: Path) -> list[str]:
    """The files under ``folder`` as sorted POSIX paths relative to it.

    Folders named ``__pycache__`` or starting with a dot (``.git``, ``.venv``) are skipped; symbolic
    links to folders are followed once.
    """
    found: list[str] = []
    seen: set[str] = set()
    for root, dirs, names in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:  # a link back up the tree
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(name for name in dirs if not _is_skipped(name))
        relative = Path(root).relative_to(folder)
        for name in names:
            if (Path(root) / name).is_file():
                found.append((relative / name).as_posix())
    return sorted(found)


class LocalDownloader(Downloader):
    """Copy a file or a folder of this computer.

    A file is copied as itself (``single_file``); a folder with everything in it, recursively, except
    ``__pycache__`` and dot-folders. Local sources cannot be pinned: ``resolved`` is None.
    """

    def download(self, uri: str, dst: Path, pin: Optional[str] = None) -> Fetched:
        path = local_path(uri, self.context.project)
        if path.is_file():
            name = path.name
            shutil.copyfile(path, dst / name)
            return Fetched(files=[name], single_file=True)
        if path.is_dir():
            files = folder_files(path)
            for name in files:
                target = dst / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path / name, target)
            return Fetched(files=files, single_file=False)
        raise DownloadError(
            f"{uri}: no such file or folder: {path} (relative paths are relative to the project folder "
            f"{self.context.project})"
        )


__all__ = ["SKIPPED_FOLDERS", "LocalDownloader", "folder_files", "local_path"]
