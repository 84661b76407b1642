"""Plain http(s) sources: ``https://host/path/module.py``; a URL ending in ``.json`` is a ``package.json``."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Optional
from urllib.parse import unquote, urlsplit

from belay_packages.downloaders import Downloader, DownloadError, Fetched, raw_file_requested, safe_relative


def url_file_name(url: str) -> str:
    """The file name a URL ends in (its last path component, without query or fragment), or ``""``."""
    path = unquote(urlsplit(url).path)
    return "" if path.endswith("/") else posixpath.basename(path)


class HttpDownloader(Downloader):
    """One file over http(s), named like the URL's last path component.

    Not cached and not pinnable (``resolved`` is None): what a URL serves can change. A URL whose path
    ends in ``.json`` is a MicroPython ``package.json`` and is installed with
    `belay_packages.downloaders.index.install_manifest`.
    """

    plain_get = True

    def download(self, uri: str, dst: Path, pin: Optional[str] = None) -> Fetched:
        name = url_file_name(uri)
        if not name:
            raise DownloadError(
                f"{uri}: the URL names no file; give the URL of a file (https://host/path/module.py) "
                "or of a package.json"
            )
        if name.endswith(".json") and not raw_file_requested(uri):
            from belay_packages.downloaders.index import install_manifest

            return install_manifest(self.context, uri, dst, pin)
        name = safe_relative(name, "file name")
        (dst / name).write_bytes(self.context.get(uri))
        return Fetched(files=[name], single_file=True)


__all__ = ["HttpDownloader", "url_file_name"]
