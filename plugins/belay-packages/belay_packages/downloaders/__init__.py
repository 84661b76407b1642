"""Downloaders: how a dependency source reaches the host (a plugin kind, ``belay_register_downloaders``).

A source is a string from ``[tool.belay]`` (``"aiohttp"``, ``"mip:aiohttp@0.0.5"``, ``"./lib/x.py"``,
``"https://host/x.py"``, ``"github:user/repo/x.py@v1"``, ...). `DownloadContext.downloader_for`
chooses the downloader by the source's prefix (the longest registered scheme wins); plain package
names go to whichever downloader handles ``mip:``, paths to whichever handles ``file:``.

Write a downloader by subclassing `Downloader` and registering it::

    class FtpDownloader(Downloader):
        def download(self, uri, dst, pin=None):
            data = fetch_somehow(uri)
            (dst / "module.py").write_bytes(data)
            return Fetched(files=["module.py"], single_file=True)

    @hookimpl
    def belay_register_downloaders():
        return [DownloaderRecord("ftp", "belay_ftp:FtpDownloader", "Files over FTP.", schemes=("ftp://",))]
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Callable, ClassVar, Optional

from attrs import define, field

from belay_core.records import DownloaderRecord
from belay_packages.cache import Cache
from belay_packages.web import DownloadError, HttpClient, IntegrityError, NotFoundError

PLAIN_NAME = re.compile(r"^[A-Za-z0-9_-]+(@[A-Za-z0-9_.+-]+)?$")
"""A package-index name, optionally with ``@version``: ``aiohttp``, ``aiohttp@0.0.5``."""

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")

DownloadProgress = Callable[[str, int, Optional[int]], None]
"""``progress(label, done_bytes, total_bytes_or_None)``, called while bytes arrive."""


@define
class Fetched:
    """What a downloader put into its destination folder.

    Parameters
    ----------
    files
        The files written, as POSIX paths relative to the destination folder.
    resolved
        The exact version or commit the source resolved to, recorded in ``belay.lock`` and passed back
        as ``pin`` to download exactly the same again; None when the source cannot be pinned (a plain
        URL, a local path).
    lib_root
        The paths are relative to the board's ``/lib`` (package-index manifests name their install
        paths) rather than to the package's own folder.
    single_file
        The source is a single file, so ``rename_to_init`` may turn it into ``__init__.py``.
    """

    files: list[str] = field(factory=list)
    resolved: Optional[str] = None
    lib_root: bool = False
    single_file: bool = False


class Downloader:
    """Base class of downloaders: fetch one source into an empty folder.

    Parameters
    ----------
    context
        Shared state of one install: project folder, package indices, HTTP client, cache, progress.
    """

    plain_get: ClassVar[bool] = False
    """Whether this downloader fetches an http(s) URL with one plain GET and nothing more (``http`` does).

    Index installs fetch such URLs themselves, through the download cache."""

    def __init__(self, context: DownloadContext) -> None:
        self.context = context

    def download(self, uri: str, dst: Path, pin: Optional[str] = None) -> Fetched:
        """Write the files of ``uri`` into the empty folder ``dst``.

        Parameters
        ----------
        uri
            The source, as written in ``[tool.belay]``.
        dst
            An empty folder to write into.
        pin
            A ``Fetched.resolved`` value from the lock file: fetch exactly that version or commit.

        Raises
        ------
        DownloadError
            With a message naming the source and what went wrong.
        """
        raise NotImplementedError


def safe_relative(path: str, what: str = "path") -> str:
    """``path`` as a normalized relative POSIX path that cannot leave its folder.

    Raises
    ------
    DownloadError
        For absolute paths, drive letters and ``..`` components.
    """
    cleaned = path.replace("\\", "/")
    parts = PurePosixPath(cleaned).parts
    if not parts or cleaned.startswith("/") or ".." in parts or re.match(r"^[A-Za-z]:", cleaned):
        raise DownloadError(f"unsafe {what} {path!r}: it must stay inside its folder")
    return "/".join(part for part in parts if part != ".")


_RAW_FETCHES: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("belay_raw_fetches", default=())
"""Sources being fetched through `DownloadContext.fetch_file` for their raw bytes."""


def raw_file_requested(uri: str) -> bool:
    """Whether ``uri`` is being fetched for its raw bytes, through `DownloadContext.fetch_file`.

    A downloader that installs ``package.json`` sources as manifests must check this first and, when
    True, write the file itself: the manifest install is asking for the manifest's (or a data file's)
    bytes, and installing it again would never end.

    Examples
    --------
    >>> if name.endswith(".json") and not raw_file_requested(uri):
    ...     return install_manifest(self.context, uri, dst, pin)
    """
    return uri in _RAW_FETCHES.get()


@define
class DownloadContext:
    """What downloaders share during one resolve or install.

    Parameters
    ----------
    project
        The project folder: local sources are relative to it.
    package_indices
        MicroPython package indices, tried in order.
    mpy_version
        ``"py"`` or an mpy version for package-index files.
    records
        The downloaders available (from `belay_core.plugins.get_plugins`).
    cache
        The download cache.
    http
        The HTTP client (retries, timeouts).
    progress
        Called while bytes arrive.
    """

    project: Path = field(factory=Path.cwd)
    package_indices: list[str] = field(factory=lambda: ["https://micropython.org/pi/v2"])
    mpy_version: str = "py"
    records: Optional[Sequence[DownloaderRecord]] = None
    cache: Cache = field(factory=Cache)
    http: HttpClient = field(factory=HttpClient)
    progress: Optional[DownloadProgress] = None
    _instances: dict[str, Downloader] = field(factory=dict, init=False)

    def _records(self) -> Sequence[DownloaderRecord]:
        if self.records is None:
            from belay_core.plugins import get_plugins

            self.records = list(get_plugins().registry["downloaders"].values())
        return self.records

    def record_for(self, uri: str) -> DownloaderRecord:
        """The downloader record that handles ``uri``.

        Raises
        ------
        DownloadError
            When none does; the message lists the schemes that are handled.
        """
        records = self._records()
        lowered = uri.lower()
        best: Optional[tuple[int, DownloaderRecord]] = None
        for record in records:
            for scheme in record.schemes:
                if lowered.startswith(scheme.lower()) and (best is None or len(scheme) > best[0]):
                    best = (len(scheme), record)
        if best is not None:
            return best[1]
        scheme_match = _SCHEME.match(uri)
        if PLAIN_NAME.match(uri):
            fallback = "mip:"
        elif scheme_match and len(scheme_match.group(1)) > 1:  # not a Windows drive letter
            from belay_core.known_plugins import downloader_distribution

            known = sorted({scheme for record in records for scheme in record.schemes})
            plugin = downloader_distribution(uri)
            hint = f" (pip install {plugin[1]} for {' and '.join(plugin[0])})" if plugin else ""
            raise DownloadError(
                f"no downloader handles {uri!r}{hint}; installed downloaders handle: {', '.join(known) or 'nothing'}"
            )
        else:
            fallback = "file:"
        for record in records:
            if fallback in record.schemes:
                return record
        raise DownloadError(f"no downloader handles {uri!r} (none is registered for {fallback!r})")

    def downloader_for(self, uri: str) -> Downloader:
        """An instance of the downloader that handles ``uri`` (one per downloader per context)."""
        record = self.record_for(uri)
        if record.name not in self._instances:
            self._instances[record.name] = record.load()(self)
        return self._instances[record.name]

    def download(self, uri: str, dst: Path, pin: Optional[str] = None) -> Fetched:
        """Download ``uri`` into the empty folder ``dst`` with the downloader that handles it."""
        dst.mkdir(parents=True, exist_ok=True)
        fetched = self.downloader_for(uri).download(uri, dst, pin)
        fetched.files = [safe_relative(name, "file name") for name in fetched.files]
        return fetched

    def fetch_file(self, uri: str, pin: Optional[str] = None) -> bytes:
        """The bytes of a single-file source, through whichever downloader handles it.

        Package manifests use this for their ``urls`` (which may be ``github:`` shorthands). While it
        runs, `raw_file_requested` is True for ``uri``, so a downloader that installs ``.json`` sources
        as manifests writes the file itself instead.
        """
        import tempfile

        token = _RAW_FETCHES.set((*_RAW_FETCHES.get(), uri))
        try:
            with tempfile.TemporaryDirectory(prefix="belay-") as tmp:
                fetched = self.download(uri, Path(tmp), pin)
                if len(fetched.files) != 1:
                    raise DownloadError(f"{uri}: expected a single file, got {len(fetched.files)}")
                return (Path(tmp) / fetched.files[0]).read_bytes()
        finally:
            _RAW_FETCHES.reset(token)

    def get(self, url: str, *, immutable: bool = False, headers: Optional[dict[str, str]] = None) -> bytes:
        """GET ``url`` with retries and progress; ``immutable`` content is served from and kept in the cache."""
        if immutable:
            cached = self.cache.get(url)
            if cached is not None:
                return cached
        label = url.rsplit("/", 1)[-1] or url
        progress = None
        if self.progress is not None:
            report = self.progress

            def progress(done: int, total: Optional[int]) -> None:
                report(label, done, total)

        data = self.http.get(url, headers=headers, progress=progress)
        if immutable:
            self.cache.put(url, data)
        return data

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> DownloadContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "PLAIN_NAME",
    "DownloadContext",
    "DownloadError",
    "DownloadProgress",
    "Downloader",
    "Fetched",
    "IntegrityError",
    "NotFoundError",
    "raw_file_requested",
    "safe_relative",
]
