"""Sync a host folder to the board by hash difference.

One round trip lists and hashes every board file under the destination; only changed files are
sent, in as few round trips as their size allows; board files under the destination that the folder
does not have are removed, except what ``keep`` names. Nothing outside the destination is touched.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from attrs import define, field

from belay_core.errors import BelayError, FeatureUnavailableError, UsageError

if TYPE_CHECKING:
    from belay_core.device_api import DeviceApi
    from belay_core.files import TransferProgress
    from belay_core.hashing import Hasher
    from belay_core.records import Compiler

IGNORE_FILE = ".belayignore"
"""A gitignore-style file in the synced folder; its patterns are added to ``ignore``."""

DEFAULT_IGNORE: tuple[str, ...] = ("__pycache__/", "*.pyc", ".git/", ".belayignore", ".DS_Store")
"""Always ignored."""

DEFAULT_KEEP_AT_ROOT: tuple[str, ...] = ("boot.py", "webrepl_cfg.py", "lib")
"""Kept on the board when syncing to ``/`` and ``keep`` is not given."""

SyncProgress = Callable[[str, int, int], None]
"""``progress(path, done, total)``: files done out of total, with the path just handled."""


class SyncCancelled(BelayError):
    """The ``confirm`` callback of a sync said no: nothing was changed. ``plan`` is what it would have done."""

    def __init__(self, plan: SyncPlan) -> None:
        super().__init__("the sync was cancelled: nothing on the board was changed")
        self.plan = plan


@define
class SyncPlan:
    """What a sync does (or did): board paths, all absolute.

    Attributes
    ----------
    upload
        Files sent (new or changed).
    unchanged
        Files already on the board with the same content.
    delete
        Board files removed (not in the folder, not kept).
    mkdir
        Directories created.
    rmdir
        Board directories removed (not in the folder, not kept, empty after the deletes).
    hasher
        Name of the hasher that compared the files.
    followed_links
        Host file links in the folder (relative paths): their targets' contents were sent.
    skipped_links
        Host folder links in the folder (relative paths, ending in ``/``): not followed, nothing sent.
    upload_bytes
        Bytes the uploads carry (after minifying or compiling).
    """

    upload: list[str] = field(factory=list)
    unchanged: list[str] = field(factory=list)
    delete: list[str] = field(factory=list)
    mkdir: list[str] = field(factory=list)
    rmdir: list[str] = field(factory=list)
    hasher: str = ""
    followed_links: list[str] = field(factory=list)
    skipped_links: list[str] = field(factory=list)
    upload_bytes: int = 0
    """Bytes the uploads carry (after minifying or compiling)."""

    @property
    def changes(self) -> int:
        """How many board changes the plan makes."""
        return len(self.upload) + len(self.delete) + len(self.mkdir) + len(self.rmdir)


@define
class HostFile:
    """A host file as it will be on the board (after minifying or compiling)."""

    source: Path
    remote: str
    data: bytes


def normalize_dst(dst: str) -> str:
    """An absolute, normalized board path without a trailing slash (``"/"`` for the root).

    Raises
    ------
    BelayError
        For relative paths or paths that climb out of the root.
    """
    if not dst.startswith("/"):
        raise UsageError(f"dst must be an absolute board path such as '/' or '/app', not {dst!r}")
    parts = PurePosixPath(dst).parts
    if ".." in parts:
        raise UsageError(f"dst must not contain '..': {dst!r}")
    normal = posixpath.normpath(dst)
    return "/" if normal in ("/", "//") else normal


def join(dst: str, relative: str) -> str:
    """Board path of ``relative`` under ``dst``."""
    return ("" if dst == "/" else dst) + "/" + relative


def inside(path: str, dst: str) -> bool:
    """Whether board ``path`` is strictly under ``dst``."""
    return path.startswith(dst if dst.endswith("/") else dst + "/") and path != dst


def collect_host_files(
    folder: Path,
    *,
    ignore: Optional[Iterable[str]] = None,
    links: Optional[tuple[list[str], list[str]]] = None,
) -> list[Path]:
    """Files of ``folder`` to sync, with gitignore-style ``ignore`` patterns and ``.belayignore``.

    Patterns are relative to ``folder``: ``/build`` only at its top, ``docs/*.md`` under ``docs``.
    A link to a file counts as that file; a link to a folder is not followed. ``links``, when given,
    is ``(followed, skipped)``: the relative paths of both kinds are appended to it.
    """
    import pathspec

    patterns = list(DEFAULT_IGNORE) + list(ignore or ())
    ignore_file = folder / IGNORE_FILE
    if ignore_file.is_file():
        patterns += ignore_file.read_text(encoding="utf-8").splitlines()
    spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    files = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_symlink() and path.is_dir():
            if links is not None and not spec.match_file(relative + "/"):
                links[1].append(relative + "/")
            continue
        if not path.is_file() or spec.match_file(relative):
            continue
        if links is not None and path.is_symlink():
            links[0].append(relative)
        files.append(path)
    return files


def _kept(relative: str, keep: Sequence[str]) -> bool:
    return any(relative == k or relative.startswith(k.rstrip("/") + "/") for k in keep)


def plan_sync(
    host: Sequence[HostFile],
    board_files: dict[str, int],
    board_dirs: Sequence[str],
    dst: str,
    keep: Sequence[str],
    hasher: Hasher,
    owned: Optional[set[str]] = None,
) -> SyncPlan:
    """Compare the host files with the board's and decide what to send, keep and remove.

    Parameters
    ----------
    host
        The files as they will be on the board.
    board_files
        Hashes of the board files under ``dst`` (absolute paths).
    board_dirs
        Directories under ``dst`` on the board (absolute paths).
    dst
        Normalized destination.
    keep
        Paths relative to ``dst`` never removed (a directory keeps everything under it).
    hasher
        Gives the host hashes.
    owned
        When given, only these board paths may be removed (files a previous sync put there).
    """
    plan = SyncPlan(hasher=hasher.name)
    wanted_dirs: set[str] = set()
    wanted_files: set[str] = set()
    for item in host:
        wanted_files.add(item.remote)
        parent = posixpath.dirname(item.remote)
        while parent not in ("/", dst) and inside(parent, dst):
            wanted_dirs.add(parent)
            parent = posixpath.dirname(parent)
        board_hash = board_files.get(item.remote)
        if board_hash is not None and board_hash == hasher.host_hash(item.data):
            plan.unchanged.append(item.remote)
        else:
            plan.upload.append(item.remote)
    existing = set(board_dirs)
    plan.mkdir = sorted(d for d in wanted_dirs if d not in existing)
    relative_of = {p: p[len(dst) :].lstrip("/") for p in [*board_files, *board_dirs]}

    def removable(path: str) -> bool:
        return not _kept(relative_of[path], keep) and inside(path, dst) and (owned is None or path in owned)

    plan.delete = sorted(p for p in board_files if p not in wanted_files and removable(p))
    if owned is None:
        plan.rmdir = sorted(
            (d for d in board_dirs if d not in wanted_dirs and removable(d)), key=lambda d: (-d.count("/"), d)
        )
    for path in [*plan.delete, *plan.rmdir, *plan.upload, *plan.mkdir]:  # the promise, checked
        if not inside(path, dst):
            raise BelayError(f"internal error: sync planned to touch {path!r}, outside {dst!r}")
    return plan


def prepare(
    device: DeviceApi,
    folder: Path,
    dst: str,
    files: Sequence[Path],
    *,
    minify: Union[bool, str],
    mpy_cross: Union[bool, str, os.PathLike[str], None],
) -> list[HostFile]:
    """Read, minify or compile each host file into what the board will hold."""
    compiler: Optional[Compiler] = None
    if mpy_cross:
        compilers = list(device.plugins.records("compilers").values())
        if not compilers:
            raise BelayError("mpy_cross needs a compiler plugin: pip install belay-mpy-cross")
        impl = device.implementation
        if impl.mpy_version is None:
            raise FeatureUnavailableError(
                f"{impl.name} {'.'.join(map(str, impl.version))} does not say which .mpy format it loads"
            )
        binary = None if mpy_cross is True else mpy_cross
        compiler = compilers[0].load()(impl.mpy_version, impl.mpy_sub_version, binary=binary)
    prepared = []
    for path in files:
        relative = path.relative_to(folder).as_posix()
        compile_it = compiler is not None and path.suffix == ".py" and path.name not in ("boot.py", "main.py")
        minify_it = bool(minify) and path.suffix == ".py" and not compile_it
        source = path.read_bytes()
        compiler_version = compiler.version if compile_it and compiler is not None else None
        # Keyed by content: a same-size rewrite within the clock's resolution is still seen.
        key = (hashlib.blake2b(source, digest_size=16).digest(), relative, compiler_version, minify_it and minify)
        data = _PREPARED.get(key) if compile_it or minify_it else source
        if data is None:
            data = source
            if compile_it and compiler is not None:
                data = compiler.compile(data, filename=relative)
            elif minify_it:
                data = device.minify(data.decode("utf-8"), minify).encode("utf-8")
            if len(_PREPARED) >= _PREPARED_MAX:
                _PREPARED.clear()
            _PREPARED[key] = data
        if compile_it:
            relative = relative[:-3] + ".mpy"
        prepared.append(HostFile(source=path, remote=join(dst, relative), data=data))
    return prepared


_PREPARED: dict[tuple[Any, ...], bytes] = {}
"""Minified or compiled files by (path, mtime, size, how): a re-sync does not redo the work."""
_PREPARED_MAX = 4096


_WALK = """\
def __belay_sw(d,k):
 import os
 global __belay_sq
 e=1
 if d!='/':
  try:os.stat(d)
  except OSError:e=0
 l=hasattr(os,'ilistdir')
 def g():
  if not l:
   for n in os.listdir():
    if '/'+n not in k:yield '/'+n,n,0
   return
  s=[d]
  while s:
   q=s.pop()
   try:it=os.ilistdir(q)
   except OSError:continue
   for x in it:
    p=(q if q!='/' else '')+'/'+x[0]
    if p in k:continue
    t=x[1]
    if t&0xF000 not in(0x4000,0x8000):t=os.stat(p)[0]
    if t&0x4000:s.append(p);yield p,p,1
    else:yield p,p,0
 __belay_sq=g()
 return e,l
def __belay_sn(n):
 F={};D=[]
 for p,b,t in __belay_sq:
  if t:D.append(p)
  else:F[p]=__belay_hash(b)
  n-=1
  if not n:return F,D,0
 return F,D,1
"""
"""Board side of the listing, walked without recursion and answered in pieces: ``__belay_sw(d, k)``
starts a walk of ``d`` skipping the kept paths ``k`` and says whether ``d`` exists and whether the
filesystem has folders (the micro:bit's is flat, without ``ilistdir``); each ``__belay_sn(n)`` gives
the next ``n`` entries (files with their hash, directories) and whether the walk is done."""

_WALK_FLAT = """\
def __belay_sw(k):
 F={}
 for n in __import__('os').listdir():
  if '/'+n not in k:F['/'+n]=__belay_hash(n)
 return F,[],1,0
"""
"""The listing of a flat filesystem (the micro:bit's): its few files with their hashes, in one answer."""

LISTING_PIECE = 200
"""Entries per round trip of a listing on boards with folders (one round trip for most projects)."""


@define
class BoardListing:
    """The board side of a sync, from one round trip."""

    files: dict[str, int]
    dirs: list[str]
    exists: bool
    tree: bool
    """Whether the filesystem has folders; a flat one (the micro:bit's) names files without a leading ``/``."""

    def path(self, remote: str) -> str:
        """How the board's ``open`` and ``os`` functions name ``remote``."""
        return remote if self.tree else remote.lstrip("/")


def board_listing(device: DeviceApi, dst: str, kept: Iterable[str]) -> BoardListing:
    """Hashes of the board files under ``dst`` and its directories: one round trip, more for big trees.

    The board answers in pieces of at most `LISTING_PIECE` entries, so no tree is too big for its heap.
    """
    kept_set = set(kept) or "{None}"
    if device.implementation.platform == "microbit":  # a flat filesystem, and no heap to spare
        files, dirs, exists, tree = device.session.value(
            _WALK_FLAT + f"__belay_r(__belay_sw({kept_set!r}))\ndel __belay_sw"
        )
        return BoardListing(files, dirs, bool(exists), bool(tree))
    piece = LISTING_PIECE
    source = _WALK + f"__belay_r((__belay_sw({dst!r},{kept_set!r}),__belay_sn({piece})))\n"
    try:
        (exists, tree), (files, dirs, done) = device.session.value(source)
        while not done:
            more, more_dirs, done = device.session.value(f"__belay_r(__belay_sn({piece}))")
            files.update(more)
            dirs.extend(more_dirs)
    finally:  # with the next call, no round trip of its own
        device.defer("__belay_sw=__belay_sn=__belay_sq=None\ndel __belay_sw,__belay_sn,__belay_sq")
    return BoardListing(files, dirs, bool(exists), bool(tree))


def apply_plan(
    device: DeviceApi,
    plan: SyncPlan,
    host: Sequence[HostFile],
    listing: BoardListing,
    progress: Optional[SyncProgress] = None,
    byte_progress: Optional[TransferProgress] = None,
) -> None:
    """Make the board match the plan: directories and uploads (batched by `Device.put`'s machinery), then removals.

    Removals in the way of a write go first: a board file where the folder now has a directory, or a
    board directory (and what is under it) where the folder now has a file.
    """
    needed_dirs = set(plan.mkdir)
    for remote in plan.upload:
        parent = posixpath.dirname(remote)
        while parent not in ("/", ""):
            needed_dirs.add(parent)
            parent = posixpath.dirname(parent)
    in_the_way = set(plan.upload) & set(plan.rmdir)  # directories where files go

    def blocking(path: str) -> bool:
        return path in needed_dirs or any(path == d or path.startswith(d + "/") for d in in_the_way)

    first = [p for p in plan.delete if blocking(p)], [d for d in plan.rmdir if blocking(d)]
    rest = [p for p in plan.delete if not blocking(p)], [d for d in plan.rmdir if not blocking(d)]
    _remove(device, listing, *first)
    if plan.upload or plan.mkdir:
        data = {item.remote: item.data for item in host}
        contents = {listing.path(r): data[r] for r in plan.upload}
        device.files.write_many(
            contents, [listing.path(d) for d in plan.mkdir], progress=progress, byte_progress=byte_progress
        )
    _remove(device, listing, *rest)


def _remove(device: DeviceApi, listing: BoardListing, files: list[str], dirs: list[str]) -> None:
    """Remove board files, then directories (deepest first, as the plan orders them), in one call."""
    removals = [f"__import__('os').remove({listing.path(p)!r})" for p in files]
    removals += [f"try:__import__('os').rmdir({d!r})\nexcept OSError:pass" for d in dirs]
    if removals:
        device.run_statements("\n".join(removals))


def sync(
    device: DeviceApi,
    folder: Union[str, os.PathLike[str]],
    dst: str = "/",
    keep: Union[str, Sequence[str], bool, None] = None,
    ignore: Optional[Union[str, Sequence[str]]] = None,
    minify: Union[bool, str] = True,
    mpy_cross: Union[bool, str, os.PathLike[str], None] = None,
    dry_run: bool = False,
    progress: Optional[SyncProgress] = None,
    owned: Optional[set[str]] = None,
    *,
    confirm: Optional[Callable[[SyncPlan], bool]] = None,
    byte_progress: Optional[TransferProgress] = None,
) -> SyncPlan:
    """Sync ``folder`` (or one file) to ``dst`` on the board; see `belay_core.Device.sync`."""
    folder = Path(folder)
    dst = normalize_dst(dst)
    if isinstance(keep, str):
        keep = [keep]
    if isinstance(ignore, str):
        ignore = [ignore]
    if keep is True:
        owned, keep = set(), []  # remove nothing
    keep = list(DEFAULT_KEEP_AT_ROOT if keep is None and dst == "/" else keep or [])
    keep = [k.strip("/") for k in keep if k.strip("/")]
    links: tuple[list[str], list[str]] = ([], [])
    if folder.is_file():  # one file into dst, removing nothing (as the original belay)
        files, folder, owned = [folder], folder.parent, set()
    elif folder.is_dir():
        files = collect_host_files(folder, ignore=ignore, links=links)
    else:
        raise UsageError(f"cannot sync {str(folder)!r}: no such file or folder")
    flat = device.implementation.platform == "microbit"
    if flat and (dst != "/" or any(len(f.relative_to(folder).parts) > 1 for f in files)):
        raise FeatureUnavailableError(
            "the micro:bit firmware has a flat filesystem: sync only files (no folders) to '/'"
        )
    host = prepare(device, folder, dst, files, minify=minify, mpy_cross=mpy_cross)
    from belay_core.hashing import select_hasher

    hasher = device.board_cache.get("hasher")
    if hasher is None:
        hasher = device.board_cache["hasher"] = select_hasher(device)
    kept = [join(dst, k) for k in keep]
    listing = board_listing(device, dst, kept)
    plan = plan_sync(host, listing.files, listing.dirs, dst, keep, hasher, owned)
    plan.followed_links, plan.skipped_links = links
    if not listing.exists:  # create the destination and its missing parents first
        chain = []
        path = dst
        while path != "/":
            chain.append(path)
            path = posixpath.dirname(path)
        plan.mkdir = [*reversed(chain), *plan.mkdir]
    sizes = {item.remote: len(item.data) for item in host}
    plan.upload_bytes = sum(sizes[r] for r in plan.upload)
    if not dry_run and (confirm is None or confirm(plan)):
        apply_plan(device, plan, host, listing, progress, byte_progress)
    elif not dry_run:
        raise SyncCancelled(plan)
    return plan


def sync_dependencies(
    device: DeviceApi,
    package: Union[str, Any],
    *subfolders: Union[str, os.PathLike[str]],
    dst: str = "/lib",
    **kwargs: Any,
) -> SyncPlan:
    """Sync folders of a host package to ``dst``, removing only files this package put there before.

    A manifest ``<dst>/.belay-<package>`` on the board lists the files the package installed.
    """
    import importlib
    import shutil
    import tempfile

    module = importlib.import_module(package) if isinstance(package, str) else package
    name = module.__name__
    roots = [Path(p) for p in getattr(module, "__path__", [])] or [Path(str(module.__file__)).parent]
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp)
        for sub in subfolders or (".",):
            source = roots[0] / sub
            if not source.exists():
                raise BelayError(f"{name} has no {str(sub)!r} to sync")
            if source.is_dir():
                shutil.copytree(source, staging, dirs_exist_ok=True)
            else:
                shutil.copy2(source, staging / source.name)
        return sync_owned(device, staging, dst, f".belay-{name}", **kwargs)


def sync_owned(device: DeviceApi, folder: Union[str, Path], dst: str, manifest: str, **kwargs: Any) -> SyncPlan:
    """Sync ``folder`` to ``dst``, removing only board files that an earlier call with this ``manifest`` put there.

    The board file ``<dst>/<manifest>`` lists what was installed; other files in ``dst`` are never touched.
    """
    import json

    dst = normalize_dst(dst)
    record = join(dst, manifest)
    read = f"try:\n f=open({record!r});__belay_r(f.read());f.close()\nexcept OSError:__belay_r('[]')"
    previous = json.loads(device.session.value(read))
    kwargs.setdefault("keep", [])
    plan = sync(device, folder, dst, owned=set(previous), **kwargs)
    if not kwargs.get("dry_run"):
        installed = sorted({*plan.upload, *plan.unchanged})
        device.run_statements(f"f=open({record!r},'w');f.write({json.dumps(installed)!r});f.close()")
    return plan


__all__ = [
    "DEFAULT_KEEP_AT_ROOT",
    "HostFile",
    "SyncPlan",
    "SyncProgress",
    "collect_host_files",
    "normalize_dst",
    "plan_sync",
    "prepare",
    "sync",
    "sync_dependencies",
    "sync_owned",
]
