"""Downloading GitHub and GitLab sources at a commit, over https, without git.

A source names a repository, a ref and optionally a path in it: a shorthand
(``github:OWNER/REPO[/PATH][@REF]``, ``gitlab:OWNER/REPO[/PATH][@REF]``) or a web URL the host shows
(``https://github.com/o/r/blob/main/x.py``, ``https://gitlab.com/group/sub/r/-/tree/v1/lib``, ...).
The ref is resolved to a commit through the host's API first (`Fetched.resolved`, kept in ``belay.lock``);
then the content of that commit is fetched, and cached, since it can never change:

* a path with a file extension: that one file, from the host's raw-file endpoint;
* a path ending in ``.json``: a MicroPython ``package.json``, installed by `belay_packages.downloaders.index`;
* no path or a folder: the host's tar.gz archive of the commit, of which only the folder is unpacked.

Base URLs and tokens come from the environment at the time of each download (`Settings.from_env`).
"""

from __future__ import annotations

import gzip
import io
import os
import re
import shutil
import tarfile
import time
import zlib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Optional
from urllib.parse import quote, unquote

from attrs import define
from pydantic import BaseModel, ConfigDict, ValidationError

from belay_packages.downloaders import (
    DownloadContext,
    Downloader,
    DownloadError,
    Fetched,
    NotFoundError,
    raw_file_requested,
    safe_relative,
)

SKIPPED = frozenset({"__pycache__"})
"""Names of archive folders never unpacked, besides every file or folder whose name starts with a dot (``.git*``)."""

MAX_UNPACKED = 200 * 1024 * 1024
"""Most bytes an archive may unpack to (all of it, not only the folder taken): a guard against tar bombs."""

DEFAULTS = {
    "BELAY_GITHUB_URL": "https://github.com",
    "BELAY_GITHUB_API_URL": "https://api.github.com",
    "BELAY_GITHUB_RAW_URL": "https://raw.githubusercontent.com",
    "BELAY_GITHUB_ARCHIVE_URL": "https://codeload.github.com",
    "BELAY_GITLAB_URL": "https://gitlab.com",
}
"""The settings' environment variables and their defaults."""

_FULL_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_PIN = re.compile(r"^[0-9a-fA-F]{7,64}$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_BAD_REF = re.compile(r"[\s~^:?*\[\\]|\.\.|^-|^$")
_STATUS = re.compile(r"^GET \S+: (\d{3})\b")


@define(frozen=True)
class Settings:
    """Where the hosts are and how to authenticate, read from the environment by `from_env`.

    Parameters
    ----------
    github_url, github_api_url, github_raw_url, github_archive_url
        GitHub's web, REST API, raw-file and archive (codeload) base URLs, without trailing ``/``.
    gitlab_url
        GitLab's base URL; the API is under ``/api/v4``.
    github_token, gitlab_token
        Tokens sent to the hosts' APIs (private repositories, higher rate limits), or None.
    """

    github_url: str = DEFAULTS["BELAY_GITHUB_URL"]
    github_api_url: str = DEFAULTS["BELAY_GITHUB_API_URL"]
    github_raw_url: str = DEFAULTS["BELAY_GITHUB_RAW_URL"]
    github_archive_url: str = DEFAULTS["BELAY_GITHUB_ARCHIVE_URL"]
    gitlab_url: str = DEFAULTS["BELAY_GITLAB_URL"]
    github_token: Optional[str] = None
    gitlab_token: Optional[str] = None

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> Settings:
        """The settings from `DEFAULTS`' variables, ``GITHUB_TOKEN`` and ``GITLAB_TOKEN`` (default `os.environ`)."""
        environ = os.environ if environ is None else environ

        def url(name: str) -> str:
            return (environ.get(name, "").strip() or DEFAULTS[name]).rstrip("/")

        return cls(
            github_url=url("BELAY_GITHUB_URL"),
            github_api_url=url("BELAY_GITHUB_API_URL"),
            github_raw_url=url("BELAY_GITHUB_RAW_URL"),
            github_archive_url=url("BELAY_GITHUB_ARCHIVE_URL"),
            gitlab_url=url("BELAY_GITLAB_URL"),
            github_token=environ.get("GITHUB_TOKEN", "").strip() or None,
            gitlab_token=environ.get("GITLAB_TOKEN", "").strip() or None,
        )


@define(frozen=True)
class Source:
    """A parsed GitHub or GitLab source.

    Parameters
    ----------
    host
        ``"github"`` or ``"gitlab"``.
    project
        ``OWNER/REPO``; on GitLab also ``GROUP/SUBGROUP/.../REPO``.
    path
        A file or folder in the repository, ``""`` for all of it.
    ref
        Branch, tag or commit; None for the default branch.
    kind
        ``"file"`` or ``"folder"`` when the form says so (web URLs, a trailing ``/``); None to decide by
        whether the path's last part has a file extension.
    """

    host: str
    project: str
    path: str = ""
    ref: Optional[str] = None
    kind: Optional[str] = None

    @property
    def is_file(self) -> bool:
        """Whether the source names a single file."""
        if self.kind is not None:
            return self.kind == "file"
        return bool(self.path) and bool(PurePosixPath(self.path).suffix)

    def repo_label(self, ref: Optional[str] = None) -> str:
        """``github:OWNER/REPO@REF``, for messages."""
        ref = ref or self.ref
        return f"{self.host}:{self.project}" + (f"@{ref}" if ref else "")

    def label(self, ref: Optional[str] = None) -> str:
        """``github:OWNER/REPO/PATH@REF``, for messages."""
        ref = ref or self.ref
        return f"{self.host}:{self.project}" + (f"/{self.path}" if self.path else "") + (f"@{ref}" if ref else "")


# ------------------------------------------------------------------------------------------------------
# Parsing
# ------------------------------------------------------------------------------------------------------


def _check_names(uri: str, names: list[str], form: str) -> None:
    if len(names) < 2 or any(not _NAME.match(name) or name in (".", "..") for name in names):
        raise DownloadError(f"{uri!r} is not a valid source: expected {form}")


def _check_ref(uri: str, ref: str) -> str:
    if _BAD_REF.search(ref):
        raise DownloadError(f"{uri!r}: {ref!r} is not a valid branch, tag or commit")
    return ref


def _clean_path(uri: str, parts: list[str]) -> str:
    path = "/".join(part for part in parts if part)
    return safe_relative(path, f"path in {uri!r}") if path else ""


def _parse_shorthand(uri: str) -> Source:
    scheme, _, rest = uri.partition(":")
    host = scheme.lower()
    form = f"{host}:OWNER/REPO[/PATH][@REF]"
    body, at, ref = rest.rpartition("@") if "@" in rest else (rest, "", "")
    if at and not ref:
        raise DownloadError(f"{uri!r} is not a valid source: the ref after '@' is empty; expected {form}")
    parts = body.split("/")
    _check_names(uri, parts[:2], form)
    folder = body.endswith("/") and len([part for part in parts[2:] if part]) > 0
    return Source(
        host=host,
        project="/".join(parts[:2]),
        path=_clean_path(uri, parts[2:]),
        ref=_check_ref(uri, ref) if ref else None,
        kind="folder" if folder else None,
    )


def _split_web_ref(segments: list[str]) -> tuple[str, list[str]]:
    """``REF, PATH...`` of a web URL; ``refs/heads/X`` and ``refs/tags/X`` are ``X``.

    A ref containing ``/`` cannot be told from the path in a web URL: its first segment is taken.
    """
    if len(segments) >= 3 and segments[0] == "refs" and segments[1] in ("heads", "tags"):
        return segments[2], segments[3:]
    return segments[0], segments[1:]


def _strip_git(name: str) -> str:
    return name[:-4] if name.endswith(".git") and len(name) > 4 else name


def _parse_github_web(uri: str, rest: str) -> Optional[Source]:
    segments = [unquote(part) for part in rest.split("/") if part]
    form = "a GitHub URL of a repository, tree, blob or raw file"
    if len(segments) >= 2:
        segments[1] = _strip_git(segments[1])
    _check_names(uri, segments[:2], form)
    project, tail = "/".join(segments[:2]), segments[2:]
    if not tail:
        return Source("github", project)
    if tail[0] == "tree" and len(tail) >= 2:
        ref, path = _split_web_ref(tail[1:])
        return Source("github", project, _clean_path(uri, path), _check_ref(uri, ref), "folder")
    if tail[0] in ("blob", "raw") and len(tail) >= 3:
        ref, path = _split_web_ref(tail[1:])
        if path:
            return Source("github", project, _clean_path(uri, path), _check_ref(uri, ref), "file")
    return None


def _parse_github_raw(uri: str, rest: str) -> Optional[Source]:
    segments = [unquote(part) for part in rest.split("/") if part]
    _check_names(uri, segments[:2], "a raw file URL: RAW/OWNER/REPO/REF/PATH")
    if len(segments) < 4:
        raise DownloadError(f"{uri!r} is not a valid source: expected a raw file URL: RAW/OWNER/REPO/REF/PATH")
    ref, path = _split_web_ref(segments[2:])
    if not path:
        raise DownloadError(f"{uri!r} is not a valid source: it names no file after the ref {ref!r}")
    return Source("github", "/".join(segments[:2]), _clean_path(uri, path), _check_ref(uri, ref), "file")


def _parse_gitlab_web(uri: str, rest: str) -> Optional[Source]:
    project_part, dash, tail_part = rest.partition("/-/")
    segments = [unquote(part) for part in project_part.split("/") if part]
    if segments:
        segments[-1] = _strip_git(segments[-1])
    _check_names(uri, segments, "a GitLab URL of a project, tree, blob or raw file")
    project = "/".join(segments)
    tail = [unquote(part) for part in tail_part.split("/") if part]
    if not dash:
        return Source("gitlab", project)
    if tail and tail[0] == "tree" and len(tail) >= 2:
        ref, path = _split_web_ref(tail[1:])
        return Source("gitlab", project, _clean_path(uri, path), _check_ref(uri, ref), "folder")
    if tail and tail[0] in ("blob", "raw") and len(tail) >= 3:
        ref, path = _split_web_ref(tail[1:])
        if path:
            return Source("gitlab", project, _clean_path(uri, path), _check_ref(uri, ref), "file")
    return None


def parse_source(uri: str, settings: Optional[Settings] = None) -> Optional[Source]:
    """Parse a shorthand or a web URL of GitHub or GitLab.

    Parameters
    ----------
    uri
        ``github:OWNER/REPO[/PATH][@REF]``, ``gitlab:...``, or a repository, ``tree``, ``blob`` or raw-file
        URL under GitHub's or GitLab's web base (the defaults and the configured ones).
    settings
        The configured base URLs; default `Settings.from_env`.

    Returns
    -------
    Source or None
        None for other URLs of these hosts that name a file (release assets, ...): plain downloads.

    Raises
    ------
    DownloadError
        When the source is malformed or belongs to neither host.

    Examples
    --------
    >>> source = parse_source("github:micropython/micropython-lib/python-stdlib/abc/abc.py@v1.24.0")
    >>> source.project, source.path, source.ref, source.is_file
    ('micropython/micropython-lib', 'python-stdlib/abc/abc.py', 'v1.24.0', True)
    >>> parse_source("https://gitlab.com/group/sub/repo/-/tree/main/lib")
    Source(host='gitlab', project='group/sub/repo', path='lib', ref='main', kind='folder')
    """
    settings = settings or Settings.from_env()
    if uri.lower().startswith(("github:", "gitlab:")):
        return _parse_shorthand(uri)
    bare = uri.split("#", 1)[0].split("?", 1)[0]
    parsers = [
        (settings.github_url, _parse_github_web),
        (DEFAULTS["BELAY_GITHUB_URL"], _parse_github_web),
        (settings.github_raw_url, _parse_github_raw),
        (DEFAULTS["BELAY_GITHUB_RAW_URL"], _parse_github_raw),
        (settings.gitlab_url, _parse_gitlab_web),
        (DEFAULTS["BELAY_GITLAB_URL"], _parse_gitlab_web),
    ]
    for base, parser in sorted(parsers, key=lambda pair: -len(pair[0])):
        if bare.lower().startswith(base.lower() + "/"):
            return parser(uri, bare[len(base) + 1 :])
    raise DownloadError(f"{uri!r} is neither a github:/gitlab: shorthand nor a GitHub or GitLab URL")


# ------------------------------------------------------------------------------------------------------
# Archives
# ------------------------------------------------------------------------------------------------------


class _Capped(io.RawIOBase):
    """A readable stream that fails once more than ``limit`` bytes were read from ``inner``."""

    def __init__(self, inner: io.BufferedIOBase, limit: int, label: str) -> None:
        self.inner, self.limit, self.label, self.done = inner, limit, label, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self.done += len(data)
        if self.done > self.limit:
            raise DownloadError(f"{self.label}: the archive unpacks to more than {self.limit // 2**20} MB; refused")
        return data


def _member_kind(member: tarfile.TarInfo) -> str:
    if member.issparse():
        return f"sparse file ({member.size} bytes once unpacked)"
    if member.issym():
        return f"symbolic link to {member.linkname!r}"
    if member.islnk():
        return f"hard link to {member.linkname!r}"
    return "device or fifo" if member.isdev() else f"member of type {member.type!r}"


@define
class Unpacked:
    """What `unpack_folder` wrote.

    Parameters
    ----------
    files
        POSIX paths relative to the destination folder, sorted.
    single_file
        The path named a regular file in the archive (a file without extension, like ``LICENSE``).
    """

    files: list[str]
    single_file: bool = False


def unpack_folder(data: bytes, folder: str, dst: Path, label: str, limit: Optional[int] = None) -> Unpacked:
    """Write the files under ``folder`` of a host's ``tar.gz`` archive into ``dst``.

    The archive has one top folder (its name varies), which is dropped; ``folder`` is relative to it
    (``""`` for everything). Only regular files and folders are written, never outside ``dst``; names
    starting with a dot (``.gitignore``, ``.github/``) and `SKIPPED` folders are skipped. On an error
    the files written so far are removed again.

    Parameters
    ----------
    data
        The ``tar.gz`` bytes.
    folder
        The folder in the repository, POSIX, no leading or trailing ``/``; ``""`` for all.
    dst
        The destination folder.
    label
        The source, for messages.
    limit
        Most bytes the whole archive may unpack to; default `MAX_UNPACKED`.

    Raises
    ------
    DownloadError
        For members with absolute paths or ``..``, links or devices in the folder, more than one top
        folder, an archive bigger than ``limit`` unpacked, a damaged archive, or a missing ``folder``.
    """
    limit = MAX_UNPACKED if limit is None else limit
    root = dst.resolve()
    written: list[Path] = []
    unpacked = 0
    result = Unpacked([])
    found = not folder
    top: Optional[str] = None
    stream = _Capped(gzip.GzipFile(fileobj=io.BytesIO(data)), limit, label)  # type: ignore[arg-type]
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:  # type: ignore[call-overload]
            for member in tar:
                if member.name in (".", "./"):
                    continue
                name = safe_relative(member.name, f"archive member in {label}:")
                first, _, inner = name.partition("/")
                if top is None:
                    top = first
                if first != top or (not inner and not member.isdir()):
                    raise DownloadError(f"{label}: the archive does not have one top folder ({member.name!r})")
                if not inner:
                    continue
                if folder and inner == folder:
                    found = True
                    if member.isdir():
                        continue
                    relative = PurePosixPath(inner).name  # the path is a file without extension
                    result.single_file = True
                elif not folder or inner.startswith(folder + "/"):
                    found = True
                    relative = inner[len(folder) + 1 :] if folder else inner
                else:
                    continue
                if any(part.startswith(".") or part in SKIPPED for part in relative.split("/")):
                    continue
                target = dst / relative
                if root != target.resolve() and root not in target.resolve().parents:
                    raise DownloadError(f"{label}: archive member {member.name!r} would be written outside {dst}")
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                if not member.isfile() or member.issparse():
                    raise DownloadError(
                        f"{label}: archive member {member.name!r} is a {_member_kind(member)}: "
                        "only regular files and folders are installed"
                    )
                unpacked += member.size  # what the file will hold, known before a byte is written
                if unpacked > limit:
                    raise DownloadError(f"{label}: the archive unpacks to more than {limit // 2**20} MB; refused")
                target.parent.mkdir(parents=True, exist_ok=True)
                extracted = tar.extractfile(member)
                assert extracted is not None
                with extracted, open(target, "wb") as out:
                    written.append(target)
                    shutil.copyfileobj(extracted, out)
                result.files.append(relative)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        _remove(written, dst)
        raise DownloadError(f"{label}: the archive is damaged or cannot be unpacked: {exc}") from None
    except BaseException:
        _remove(written, dst)
        raise
    if not found:
        raise DownloadError(f"{label}: there is no folder {folder!r} in the repository at that commit")
    result.files.sort()
    return result


def _remove(written: list[Path], dst: Path) -> None:
    """Undo a partial unpack: the files written, then the folders left empty."""
    for path in written:
        path.unlink(missing_ok=True)
    for folder in sorted((p for p in dst.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        try:
            folder.rmdir()
        except OSError:
            pass


# ------------------------------------------------------------------------------------------------------
# Hosts
# ------------------------------------------------------------------------------------------------------


class _GitLabProject(BaseModel):
    model_config = ConfigDict(extra="ignore")
    default_branch: Optional[str] = None


class _GitLabCommit(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str


class _GitHubCommit(BaseModel):
    model_config = ConfigDict(extra="ignore")
    sha: str


def _status(exc: DownloadError) -> Optional[int]:
    """The HTTP status of a failed GET (the error carries it as ``status`` or in its message)."""
    status = getattr(exc, "status", None)
    if isinstance(status, int):
        return status
    match = _STATUS.match(str(exc))
    return int(match.group(1)) if match else None


@define
class _Host:
    """One host's URLs, API calls and messages (`_GitHub`, `_GitLab`)."""

    context: DownloadContext
    settings: Settings

    token_env = ""

    @property
    def token(self) -> Optional[str]:
        raise NotImplementedError

    def auth(self) -> dict[str, str]:
        raise NotImplementedError

    def resolve(self, source: Source) -> str:
        raise NotImplementedError

    def file_request(self, source: Source, sha: str) -> tuple[str, dict[str, str]]:
        raise NotImplementedError

    def archive_request(self, source: Source, sha: str) -> tuple[str, dict[str, str]]:
        raise NotImplementedError

    def pinned_uri(self, source: Source, sha: str) -> str:
        raise NotImplementedError

    def refused(self, source: Source, exc: DownloadError, url: str, headers: dict[str, str]) -> str:
        """Why the API refused (401, 403, 429), with what to do."""
        status = _status(exc)
        if status == 401:
            return f"the host refused {self.token_env} ({exc}): check the token"
        if status == 429:
            return f"rate limited ({exc}): wait, or set {self.token_env} for a higher limit"
        return f"access refused ({exc}): set {self.token_env} to a token that can read the repository"

    def api_get(self, source: Source, url: str, headers: dict[str, str], ref: Optional[str]) -> bytes:
        """GET an API URL, with messages for a missing repository or ref and for refusals."""
        try:
            return self.context.get(url, headers=headers)
        except NotFoundError:
            hint = "" if self.token else f" (a private repository needs {self.token_env})"
            raise DownloadError(f"{source.repo_label(ref)}: no such repository or ref{hint}") from None
        except DownloadError as exc:
            if _status(exc) in (401, 403, 429):
                raise DownloadError(f"{source.repo_label(ref)}: {self.refused(source, exc, url, headers)}") from None
            raise DownloadError(f"{source.repo_label(ref)}: {exc}") from None


def _check_sha(source: Source, answer: str, url: str) -> str:
    sha = answer.strip().lower()
    if not _FULL_SHA.match(sha):
        raise DownloadError(f"{source.repo_label()}: {url} answered {answer[:80]!r}, not a commit")
    return sha


class _GitHub(_Host):
    token_env = "GITHUB_TOKEN"

    @property
    def token(self) -> Optional[str]:
        return self.settings.github_token

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def resolve(self, source: Source) -> str:
        ref = source.ref or "HEAD"
        url = f"{self.settings.github_api_url}/repos/{source.project}/commits/{quote(ref, safe='')}"
        headers = {"Accept": "application/vnd.github.sha", **self.auth()}
        answer = self.api_get(source, url, headers, source.ref).decode("utf-8", "replace")
        if answer.lstrip().startswith("{"):  # a server that ignored the sha media type
            try:
                answer = _GitHubCommit.model_validate_json(answer).sha
            except ValidationError:
                pass
        return _check_sha(source, answer, url)

    def file_request(self, source: Source, sha: str) -> tuple[str, dict[str, str]]:
        if self.token:  # private repositories: the contents API with the raw media type
            url = f"{self.settings.github_api_url}/repos/{source.project}/contents/{quote(source.path)}?ref={sha}"
            return url, {"Accept": "application/vnd.github.raw", **self.auth()}
        return f"{self.settings.github_raw_url}/{source.project}/{sha}/{quote(source.path)}", {}

    def archive_request(self, source: Source, sha: str) -> tuple[str, dict[str, str]]:
        if self.token:  # the API redirects to the archive host with a short-lived token of its own
            return f"{self.settings.github_api_url}/repos/{source.project}/tarball/{sha}", self.auth()
        return f"{self.settings.github_archive_url}/{source.project}/tar.gz/{sha}", {}

    def pinned_uri(self, source: Source, sha: str) -> str:
        return f"github:{source.project}/{source.path}@{sha}"

    def refused(self, source: Source, exc: DownloadError, url: str, headers: dict[str, str]) -> str:
        if _status(exc) in (403, 429):
            reset = self._rate_limit_reset(url, headers)
            if reset is not None:
                if self.token:
                    return f"the API rate limit of GITHUB_TOKEN is used up{reset}"
                return f"GitHub's API rate limit is used up{reset}; set GITHUB_TOKEN to a token for a higher limit"
        return super().refused(source, exc, url, headers)

    def _rate_limit_reset(self, url: str, headers: dict[str, str]) -> Optional[str]:
        """``" (it resets at HH:MM UTC)"`` (or ``""``) when GitHub says no requests are left, else None.

        The error of `DownloadContext.get` carries no headers, so the refused request is asked once more.
        """
        try:
            response = self.context.http.client.get(url, headers=headers)
        except Exception:
            return None
        if response.headers.get("x-ratelimit-remaining", "").strip() != "0":
            return None
        reset = response.headers.get("x-ratelimit-reset", "")
        if not reset.isdigit():
            return ""
        return time.strftime(" (it resets at %H:%M UTC)", time.gmtime(int(reset)))


class _GitLab(_Host):
    token_env = "GITLAB_TOKEN"

    @property
    def token(self) -> Optional[str]:
        return self.settings.gitlab_token

    def auth(self) -> dict[str, str]:
        return {"PRIVATE-TOKEN": self.token} if self.token else {}

    def _api(self, source: Source) -> str:
        return f"{self.settings.gitlab_url}/api/v4/projects/{quote(source.project, safe='')}"

    def resolve(self, source: Source) -> str:
        ref = source.ref
        if ref is None:
            url = self._api(source)
            try:
                project = _GitLabProject.model_validate_json(self.api_get(source, url, self.auth(), None))
            except ValidationError as exc:
                raise DownloadError(f"{source.repo_label()}: unexpected answer from {url}: {exc}") from None
            if not project.default_branch:
                raise DownloadError(f"{source.repo_label()}: the project has no default branch (is it empty?)")
            ref = project.default_branch
        url = f"{self._api(source)}/repository/commits/{quote(ref, safe='')}"
        try:
            commit = _GitLabCommit.model_validate_json(self.api_get(source, url, self.auth(), ref))
        except ValidationError as exc:
            raise DownloadError(f"{source.repo_label(ref)}: unexpected answer from {url}: {exc}") from None
        return _check_sha(source, commit.id, url)

    def file_request(self, source: Source, sha: str) -> tuple[str, dict[str, str]]:
        if self.token:  # private projects: the repository files API
            url = f"{self._api(source)}/repository/files/{quote(source.path, safe='')}/raw?ref={sha}"
            return url, self.auth()
        return f"{self.settings.gitlab_url}/{source.project}/-/raw/{sha}/{quote(source.path)}", {}

    def archive_request(self, source: Source, sha: str) -> tuple[str, dict[str, str]]:
        return f"{self._api(source)}/repository/archive.tar.gz?sha={sha}", self.auth()

    def pinned_uri(self, source: Source, sha: str) -> str:
        if source.project.count("/") == 1:
            return f"gitlab:{source.project}/{source.path}@{sha}"
        return f"{self.settings.gitlab_url}/{source.project}/-/raw/{sha}/{quote(source.path)}"  # nested groups


# ------------------------------------------------------------------------------------------------------
# Downloaders
# ------------------------------------------------------------------------------------------------------


class GitHubDownloader(Downloader):
    """Files, folders and ``package.json`` manifests of GitHub and GitLab repositories at a commit.

    Handles ``github:OWNER/REPO[/PATH][@REF]``, ``gitlab:OWNER/REPO[/PATH][@REF]`` and the hosts' web
    URLs (see `parse_source`). `Fetched.resolved` is the commit; a ``pin`` skips resolving the ref.

    Examples
    --------
    >>> with DownloadContext() as context:  # doctest: +SKIP
    ...     fetched = context.download("github:owner/repo/lib/driver.py@v1.0", Path("out"))
    >>> fetched.files, fetched.resolved  # doctest: +SKIP
    (['driver.py'], '0123456789abcdef0123456789abcdef01234567')
    """

    def download(self, uri: str, dst: Path, pin: Optional[str] = None) -> Fetched:
        settings = Settings.from_env()
        source = parse_source(uri, settings)
        if source is None:
            return self._plain(uri, dst, pin)
        host: _Host = _GitHub(self.context, settings) if source.host == "github" else _GitLab(self.context, settings)
        index_pin: Optional[str] = None
        if pin is not None:
            sha, _, index_pin = pin.strip().partition(" ")
            if not _PIN.match(sha):
                raise DownloadError(f"{uri}: the locked commit {sha!r} is not a commit hash")
            sha = sha.lower()
        elif source.ref is not None and _FULL_SHA.match(source.ref):
            sha = source.ref  # a full commit hash needs no resolving
        else:
            sha = host.resolve(source)
        if source.is_file and source.path.lower().endswith(".json") and not raw_file_requested(uri):
            return self._manifest(host, source, sha, dst, index_pin or None)
        if source.is_file:
            (dst / PurePosixPath(source.path).name).write_bytes(self._get_file(host, source, sha))
            return Fetched(files=[PurePosixPath(source.path).name], resolved=sha, single_file=True)
        return self._folder(host, source, sha, dst)

    def _get_file(self, host: _Host, source: Source, sha: str) -> bytes:
        url, headers = host.file_request(source, sha)
        try:
            return self.context.get(url, immutable=True, headers=headers or None)
        except NotFoundError:
            hint = (
                "; for a folder whose name has a dot use its tree URL or a trailing '/'" if source.kind is None else ""
            )
            raise DownloadError(f"{source.label()}: there is no file {source.path!r} at commit {sha}{hint}") from None
        except DownloadError as exc:
            raise DownloadError(f"{source.label()}: {exc}") from None

    def _folder(self, host: _Host, source: Source, sha: str, dst: Path) -> Fetched:
        url, headers = host.archive_request(source, sha)
        label = source.label() if source.ref == sha else f"{source.label()} (commit {sha})"
        try:
            data = self.context.get(url, immutable=True, headers=headers or None)
        except NotFoundError:
            raise DownloadError(f"{label}: no archive of commit {sha} (no such repository or commit)") from None
        except DownloadError as exc:
            raise DownloadError(f"{label}: {exc}") from None
        unpacked = unpack_folder(data, source.path, dst, label)
        return Fetched(files=unpacked.files, resolved=sha, single_file=unpacked.single_file)

    def _manifest(self, host: _Host, source: Source, sha: str, dst: Path, index_pin: Optional[str]) -> Fetched:
        """A ``package.json`` at the commit; its relative ``urls`` are fetched at the same commit.

        ``resolved`` is the commit, followed by the index packages' pins when the manifest needs any
        (``"<sha> base64==3.3.6"``); given back as ``pin`` both are reused.
        """
        from belay_packages.downloaders.index import install_manifest

        data = self._get_file(host, source, sha)
        fetched = install_manifest(self.context, host.pinned_uri(source, sha), dst, index_pin, data=data)
        resolved = f"{sha} {fetched.resolved}" if fetched.resolved else sha
        return Fetched(files=fetched.files, resolved=resolved, lib_root=True)

    def _plain(self, uri: str, dst: Path, pin: Optional[str]) -> Fetched:
        """Another URL of the host that names a file (a release asset, ...): a plain download, as core's ``https://``."""
        from belay_packages.downloaders.http import HttpDownloader, url_file_name

        if not PurePosixPath(url_file_name(uri)).suffix:
            raise DownloadError(
                f"{uri!r} is not a repository, tree, blob or raw-file URL, and names no file to download"
            )
        return HttpDownloader(self.context).download(uri, dst, pin)


class GitLabDownloader(GitHubDownloader):
    """The same downloader, registered under the name ``gitlab`` for ``gitlab:`` and GitLab URLs."""


__all__ = [
    "DEFAULTS",
    "MAX_UNPACKED",
    "SKIPPED",
    "GitHubDownloader",
    "GitLabDownloader",
    "Settings",
    "Source",
    "Unpacked",
    "parse_source",
    "unpack_folder",
]
