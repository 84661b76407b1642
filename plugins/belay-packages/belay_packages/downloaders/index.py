"""The MicroPython package index (``aiohttp``, ``aiohttp@0.0.5``, ``mip:aiohttp``) and ``package.json`` manifests.

An index (v2, like https://micropython.org/pi/v2) serves

- ``{index}/package/{mpy_version}/{name}/{version}.json``: a package manifest (``version`` may be ``latest``);
- ``{index}/file/{short_hash[:2]}/{short_hash}``: a file, named by the first 8 hex digits of its sha256;
- ``{index}/index.json``: every package and its versions (used here only to explain a package not found).

A manifest is ``{"v": 1, "version": ..., "hashes": [[path, short_hash]], "urls": [[path, url]],
"deps": [[name_or_url, version]]}``; paths are relative to the board's ``/lib``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import posixpath
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urljoin, urlsplit

from attrs import define, field
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from belay_packages.downloaders import (
    DownloadContext,
    Downloader,
    DownloadError,
    Fetched,
    IntegrityError,
    NotFoundError,
    raw_file_requested,
    safe_relative,
)

LATEST = "latest"
MANIFEST_NAME = "package.json"

_PACKAGE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_VERSION = re.compile(r"^[A-Za-z0-9_.+-]+$")
_SHORT_HASH = re.compile(r"^[0-9a-fA-F]{2,64}$")
_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")  # two characters at least: not a drive letter
_HTTP = ("http://", "https://")


# --------------------------------------------------------------------------------------------------
# Manifests: external input, checked with pydantic
# --------------------------------------------------------------------------------------------------


class PackageManifest(BaseModel):
    """A ``package.json``: what to install and what it needs.

    Parameters
    ----------
    v
        Format version (1).
    version
        The package's version.
    hashes
        ``[install_path, short_hash]``: files served by the package index.
    urls
        ``[install_path, url]``: files fetched from a URL, relative to the manifest's location or absolute.
    deps
        ``[name_or_url, version]``: index packages (version ``""`` or ``latest`` for the newest) or
        URLs / shorthands of other manifests or single files.
    """

    model_config = ConfigDict(extra="allow")

    v: Optional[int] = None
    version: Optional[str] = None
    hashes: list[tuple[str, str]] = Field(default_factory=list)
    urls: list[tuple[str, str]] = Field(default_factory=list)
    deps: list[tuple[str, str]] = Field(default_factory=list)

    @field_validator("deps", mode="before")
    @classmethod
    def _pad_deps(cls, value: Any) -> Any:
        # ``["name"]``, ``"name"`` and ``["name", null]`` all mean the newest version.
        if not isinstance(value, list):
            return value
        padded = []
        for item in value:
            if isinstance(item, str):
                item = [item, ""]
            elif isinstance(item, list) and (len(item) == 1 or (len(item) == 2 and item[1] is None)):
                item = [item[0], ""]
            padded.append(item)
        return padded


def parse_manifest(data: bytes, url: str) -> PackageManifest:
    """Check and parse the manifest ``data`` fetched from ``url``.

    Raises
    ------
    DownloadError
        Naming ``url`` and the problem: invalid JSON or a wrong shape.
    """
    try:
        raw = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DownloadError(f"{url}: not a valid package manifest: not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise DownloadError(f"{url}: not a valid package manifest: invalid JSON ({exc})") from None
    try:
        return PackageManifest.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'manifest'}: {error['msg']}" for error in exc.errors()
        )
        raise DownloadError(f"{url}: not a valid package manifest: {problems}") from None


class _IndexPackage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    version: str = ""
    versions: dict[str, list[str]] = Field(default_factory=dict)


class _IndexListing(BaseModel):
    model_config = ConfigDict(extra="ignore")

    packages: list[_IndexPackage] = Field(default_factory=list)


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


def short_hash(data: bytes, length: int = 8) -> str:
    """The package index's name of a file: the first ``length`` hex digits of its sha256."""
    return hashlib.sha256(data).hexdigest()[:length]


def parse_pin(pin: Optional[str]) -> dict[str, str]:
    """``"aiohttp==0.0.5 base64==3.3.6"`` as ``{"aiohttp": "0.0.5", "base64": "3.3.6"}``.

    Raises
    ------
    DownloadError
        When an item is not ``name==version``.
    """
    pins: dict[str, str] = {}
    for item in (pin or "").split():
        name, sep, version = item.partition("==")
        if not sep or not _PACKAGE_NAME.match(name) or not _VERSION.match(version):
            raise DownloadError(f"invalid pin {pin!r}: expected space-separated 'name==version' items")
        pins[name] = version
    return pins


def format_pin(versions: dict[str, str]) -> str:
    """``{"aiohttp": "0.0.5"}`` as ``"aiohttp==0.0.5"`` (in the dict's order)."""
    return " ".join(f"{name}=={version}" for name, version in versions.items())


def _is_url(text: str) -> bool:
    """``https://...``, ``github:...``: a source with a scheme (not a bare name, not ``C:\\``)."""
    return bool(_URL_SCHEME.match(text))


def _is_http(text: str) -> bool:
    return text.lower().startswith(_HTTP)


def split_ref(uri: str) -> tuple[str, str]:
    """``github:o/r/p/package.json@v1`` as ``("github:o/r/p/package.json", "v1")``.

    Only an ``@`` after the last ``/`` starts a ref; http(s) URLs have none.
    """
    if _is_http(uri):
        return uri, ""
    head, slash, last = uri.rpartition("/")
    name, at, ref = last.partition("@")
    if not at or not name:
        return uri, ""
    return head + slash + name, ref


def with_ref(uri: str, ref: Optional[str]) -> str:
    """``uri`` with ``@ref`` appended, unless it is http(s), already has a ref, or ``ref`` is empty or latest."""
    if not ref or ref == LATEST or _is_http(uri) or split_ref(uri)[1]:
        return uri
    return f"{uri}@{ref}"


def join_url(base: str, relative: str) -> str:
    """``relative`` resolved against the manifest location ``base``.

    http(s) bases use `urllib.parse.urljoin`; shorthands (``github:o/r/dir/package.json@ref``) join
    the path and keep the ref: ``mod.py`` becomes ``github:o/r/dir/mod.py@ref``.
    """
    if _is_http(base):
        return urljoin(base, relative)
    path, ref = split_ref(base)
    scheme, colon, rest = path.partition(":")
    if not colon:
        scheme, rest = "", path
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(rest), relative))
    return f"{scheme}{colon}{joined}" + (f"@{ref}" if ref else "")


def _file_name(uri: str) -> str:
    """The last path component of a URL or shorthand, without query or ref."""
    path = urlsplit(uri).path if _is_http(uri) else split_ref(uri)[0]
    return path.rstrip("/").rsplit("/", 1)[-1]


# --------------------------------------------------------------------------------------------------
# Resolution
# --------------------------------------------------------------------------------------------------


@define
class _Install:
    """One install: the files written so far and the packages resolved, shared across the dependency tree."""

    context: DownloadContext
    dst: Path
    pins: dict[str, str]
    versions: dict[str, str] = field(factory=dict)
    """Index package → version, in resolution order."""
    needed_by: dict[str, str] = field(factory=dict)
    manifests: set[str] = field(factory=set)
    stack: list[str] = field(factory=list)
    written: dict[str, tuple[str, str]] = field(factory=dict)
    """Install path → (sha256, who wrote it)."""
    files: list[str] = field(factory=list)
    _listings: dict[str, Optional[_IndexListing]] = field(factory=dict)

    # -- packages and manifests --------------------------------------------------------------------

    def package(self, name: str, version: str, parent: Optional[str]) -> None:
        """Install index package ``name`` at ``version`` (or latest) and its dependencies."""
        if not _PACKAGE_NAME.match(name):
            raise DownloadError(f"{name!r}{self._by(parent)}: not a valid package name")
        version = self.pins.get(name, version or LATEST)
        if not _VERSION.match(version):
            raise DownloadError(f"{name}@{version}{self._by(parent)}: not a valid version")
        self._check_cycle(name)
        if name in self.versions:
            have = self.versions[name]
            if version in (LATEST, have):
                return
            raise DownloadError(
                f"version conflict: {name} is needed at {have} (by {self.needed_by[name]}) "
                f"and at {version} (by {parent or 'the project'})"
            )
        index, url, manifest = self._find(name, version, parent)
        resolved = version if version != LATEST else (manifest.version or LATEST)
        if not _VERSION.match(resolved):
            raise DownloadError(f"{url}: the manifest's version {resolved!r} is not a valid version")
        self.versions[name] = resolved
        self.needed_by[name] = parent or "the project"
        label = f"{name}=={resolved}"
        self.stack.append(name)
        try:
            self._install(manifest, url, index, label)
        finally:
            self.stack.pop()

    def manifest(self, uri: str, parent: Optional[str], data: Optional[bytes] = None) -> None:
        """Install the ``package.json`` at ``uri`` (http(s) or a shorthand) and its dependencies."""
        self._check_cycle(uri)
        if uri in self.manifests:
            return
        self.manifests.add(uri)
        if data is None:
            data = self._fetch(uri)
        manifest = parse_manifest(data, uri)
        if not self.context.package_indices and manifest.hashes:
            raise DownloadError(f"{uri}: the manifest lists package-index files ('hashes') but no index is configured")
        index = self.context.package_indices[0].rstrip("/") if self.context.package_indices else ""
        self.stack.append(uri)
        try:
            self._install(manifest, uri, index, uri)
        finally:
            self.stack.pop()

    def dependency(self, dep: str, version: str, parent: Optional[str]) -> None:
        """A manifest's dependency: an index package, a single file, or another manifest."""
        if not _is_url(dep):
            self.package(dep, version, parent)
            return
        if dep.lower().startswith("file:"):
            raise DownloadError(f"{dep}{self._by(parent)}: a manifest may not name local files")
        name = _file_name(dep)
        if name.endswith((".py", ".mpy")):
            uri = with_ref(dep, version)
            self._write(name, self._fetch(uri), uri)
            return
        if not name.endswith(".json"):
            base, ref = split_ref(dep)
            dep = base.rstrip("/") + "/" + MANIFEST_NAME + (f"@{ref}" if ref else "")
        self.manifest(with_ref(dep, version), parent)

    def _install(self, manifest: PackageManifest, url: str, index: str, label: str) -> None:
        for path, digest in manifest.hashes:
            if not _SHORT_HASH.match(digest):
                raise DownloadError(f"{url}: file {path!r} has an invalid hash {digest!r}")
            digest = digest.lower()
            file_url = f"{index}/file/{digest[:2]}/{digest}"
            self._write(path, self._get_hashed(file_url, digest, path), label)
        for path, source in manifest.urls:
            if _is_url(source):
                if source.lower().startswith("file:") and not url.lower().startswith("file:"):
                    raise DownloadError(
                        f"{url}: file {path!r} comes from {source!r}: a manifest may not name local files"
                    )
                file_uri = source
            else:
                file_uri = join_url(url, source)
            self._write(path, self._fetch(file_uri), label)
        for dep, version in manifest.deps:
            self.dependency(dep, version, label)

    # -- fetching ----------------------------------------------------------------------------------

    def _find(self, name: str, version: str, parent: Optional[str]) -> tuple[str, str, PackageManifest]:
        """The first index that has ``name`` at ``version``: (index, manifest URL, manifest)."""
        tried = []
        for index in self.context.package_indices:
            index = index.rstrip("/")
            url = f"{index}/package/{self.context.mpy_version}/{name}/{version}.json"
            try:
                if version == LATEST:  # "latest" moves: never cached
                    data = self.context.get(url)
                else:
                    data = self._get_checked(url, lambda data, url=url: parse_manifest(data, url))
            except NotFoundError:
                tried.append(url)
                continue
            return index, url, parse_manifest(data, url)
        raise DownloadError(self._not_found(name, version, parent, tried))

    def _fetch(self, uri: str) -> bytes:
        """The raw bytes at a URL or shorthand.

        Plain http(s) URLs with `DownloadContext.get`; others, and http(s) URLs a plugin claims (a
        forge's web URLs), with `DownloadContext.fetch_file`.
        """
        if self._plain_http(uri):
            return self.context.get(uri)
        return self.context.fetch_file(uri)

    def _plain_http(self, uri: str) -> bool:
        if not _is_http(uri):
            return False
        try:
            return self.context.downloader_for(uri).plain_get
        except DownloadError:  # no downloader registered for http(s): plain GET
            return True

    def _get_checked(self, url: str, check: Any) -> bytes:
        """GET immutable ``url`` through the cache, caching only content that passes ``check``.

        A cached copy that fails the check (a damaged cache) is fetched again.
        """
        cached = self.context.cache.get(url)
        if cached is not None:
            try:
                check(cached)
                return cached
            except DownloadError:
                pass
        data = self.context.get(url)
        check(data)
        self.context.cache.put(url, data)
        return data

    def _get_hashed(self, url: str, digest: str, path: str) -> bytes:
        def check(data: bytes) -> None:
            actual = hashlib.sha256(data).hexdigest()[: len(digest)]
            if actual != digest:
                raise IntegrityError(
                    f"{path}: the file at {url} does not match its hash: expected {digest}, got {actual}"
                )

        return self._get_checked(url, check)

    # -- writing -----------------------------------------------------------------------------------

    def _write(self, path: str, data: bytes, owner: str) -> None:
        path = safe_relative(path, "install path")
        digest = hashlib.sha256(data).hexdigest()
        previous = self.written.get(path)
        if previous is not None:
            if previous[0] == digest:
                return
            raise DownloadError(f"{path}: {previous[1]} and {owner} both install it, with different content")
        target = self.dst / path
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        except OSError as exc:
            raise DownloadError(f"{path} (from {owner}): cannot write it: {exc}") from None
        self.written[path] = (digest, owner)
        self.files.append(path)

    # -- messages ----------------------------------------------------------------------------------

    def _check_cycle(self, key: str) -> None:
        if key in self.stack:
            cycle = [*self.stack[self.stack.index(key) :], key]
            raise DownloadError(f"dependency cycle: {' -> '.join(_short(item) for item in cycle)}")

    @staticmethod
    def _by(parent: Optional[str]) -> str:
        return f" (needed by {parent})" if parent else ""

    def _listing(self, index: str) -> Optional[_IndexListing]:
        if index not in self._listings:
            try:
                self._listings[index] = _IndexListing.model_validate_json(self.context.get(f"{index}/index.json"))
            except (DownloadError, ValidationError):
                self._listings[index] = None
        return self._listings[index]

    def _not_found(self, name: str, version: str, parent: Optional[str], tried: list[str]) -> str:
        spec = name if version == LATEST else f"{name}@{version}"
        where = f"tried {', '.join(tried)}" if tried else "no package index is configured"
        message = f"{spec}{self._by(parent)}: not in the package index ({where})"
        versions: list[str] = []
        names: list[str] = []
        known = False
        for index in self.context.package_indices:
            listing = self._listing(index.rstrip("/"))
            if listing is None:
                continue
            for package in listing.packages:
                names.append(package.name)
                if package.name == name:
                    known = True
                    versions.extend(package.versions.get(str(self.context.mpy_version), []))
                    if not package.versions and package.version:
                        versions.append(package.version)
        if versions:
            message += f"; available versions: {', '.join(_unique(versions))}"
        elif known:
            message += f"; it has no files for mpy version {self.context.mpy_version!r}"
        else:
            similar = difflib.get_close_matches(name, _unique(names), n=3, cutoff=0.6)
            if similar:
                message += f"; similar names: {', '.join(similar)}"
        if parent is None and (self.context.project / name).exists():
            message += f"; for the local {name!r} of the project, write './{name}'"
        return message


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _short(item: str) -> str:
    """A package label ``name==version`` or bare name as ``name``; URLs as they are."""
    return item if _is_url(item) else item.partition("==")[0]


# --------------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------------


def install_manifest(
    context: DownloadContext, uri: str, dst: Path, pin: Optional[str] = None, *, data: Optional[bytes] = None
) -> Fetched:
    """Install the ``package.json`` at ``uri``, with its files and dependencies, into ``dst``.

    Parameters
    ----------
    context
        The install's context: package indices (for ``hashes`` and index dependencies), HTTP, cache.
    uri
        Where the manifest is: an http(s) URL (fetched with `DownloadContext.get`, not cached) or a
        shorthand such as ``github:org/repo/dir/package.json@ref`` (fetched with
        `DownloadContext.fetch_file`). Relative ``urls`` are resolved against it.
    dst
        The folder standing for the board's ``/lib``.
    pin
        A previous result's ``resolved``: index dependencies are fetched at exactly these versions.
    data
        The manifest's bytes, when the caller already has them (a downloader installing a manifest it
        fetched itself, so ``uri`` is not fetched again through that same downloader).

    Returns
    -------
    Fetched
        Paths relative to ``/lib`` (``lib_root``); ``resolved`` is the pin string of the index
        dependencies (``"base64==3.3.6"``), or None when there are none.

    Raises
    ------
    DownloadError
        When the manifest or a file cannot be fetched, is invalid, or a dependency cannot be resolved.
    IntegrityError
        When an index file does not match its hash.
    """
    if raw_file_requested(uri):
        raise DownloadError(
            f"{uri}: its downloader installs it as a package manifest when only its bytes are asked for "
            "(a downloader must check belay_packages.downloaders.raw_file_requested)"
        )
    install = _Install(context, dst, parse_pin(pin))
    install.manifest(uri, parent=None, data=data)
    return Fetched(files=install.files, resolved=format_pin(install.versions) or None, lib_root=True)


class IndexDownloader(Downloader):
    """Packages of the MicroPython package index: ``NAME``, ``NAME@VERSION``, ``mip:NAME[@VERSION]``.

    Indices (``context.package_indices``) are tried in order; dependencies are resolved recursively;
    every index file is checked against its hash and cached. ``resolved`` is the whole tree as
    ``"name==version ..."``, top package first; given back as ``pin`` it reproduces the same files.
    """

    def download(self, uri: str, dst: Path, pin: Optional[str] = None) -> Fetched:
        spec = uri[4:] if uri[:4].lower() == "mip:" else uri
        install = _Install(self.context, dst, parse_pin(pin))
        if _is_url(spec):  # mip:github:org/repo, as mip allows
            install.dependency(spec, "", None)
        else:
            name, _, version = spec.partition("@")
            install.package(name, version or LATEST, None)
        return Fetched(files=install.files, resolved=format_pin(install.versions) or None, lib_root=True)


__all__ = [
    "LATEST",
    "IndexDownloader",
    "PackageManifest",
    "format_pin",
    "install_manifest",
    "join_url",
    "parse_manifest",
    "parse_pin",
    "raw_file_requested",
    "short_hash",
    "split_ref",
    "with_ref",
]
