"""Files on the board: transfer (``put``/``get``) and the queries the ``belay fs`` commands use.

How transfers stay fast:

- One exec carries a large chunk (sized to the board's free RAM, measured once per transfer), not one
  exec per 256 bytes; small files are batched, several to an exec.
- Data travels base64-encoded (``binascii``, 4 characters per 3 bytes) when the firmware has it, else
  as the most compact bytes literal its compiler parses (printable bytes as they are, octal escapes).
- The board keeps one file handle open across chunks; the last exec closes it, returns the sizes for
  checking and deletes the helpers, so nothing is left on the board's heap.
"""

from __future__ import annotations

import binascii
import errno
import functools
import io
import os
import posixpath
import re
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path, PureWindowsPath
from typing import IO, TYPE_CHECKING, Any, Callable, Optional, TypeVar, Union

from attrs import define

from belay_core.errors import BelayError, DeviceError, FeatureUnavailableError, ProtocolError, UnsafeBoardPathError

if TYPE_CHECKING:
    from belay_core.session import Session

TransferProgress = Callable[[str, int, int], None]
"""``progress(path, done, total)``: ``path`` on the board, bytes of it moved so far, its size."""

LocalPath = Union[str, "os.PathLike[str]"]

MIN_CHUNK = 96
"""Fewest data bytes an exec carries."""

MAX_CHUNK = 32 * 1024
"""Most data bytes an exec carries: beyond this, bigger execs gain nothing measurable."""

LINE_CHUNK = 6 * 1024
"""Most data bytes in one literal: the firmware's lexer grows a string a few bytes at a time, so very long
literals cost more per byte than several shorter ones in the same exec."""

FILE_COST = 64
"""Data bytes an extra file in a batched exec is counted as (opening, closing, its path)."""


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------


@define(frozen=True)
class FileInfo:
    """One entry of a board directory.

    Parameters
    ----------
    path
        Its path on the board (the listed directory joined with ``name``).
    name
        Its name.
    is_dir
        Whether it is a directory.
    size
        Its size in bytes (0 for directories).
    """

    path: str
    name: str
    is_dir: bool
    size: int


@define(frozen=True)
class DiskUsage:
    """Space on the board's file system, from ``os.statvfs``.

    Parameters
    ----------
    total
        Bytes the file system holds.
    free
        Bytes still free.
    """

    total: int
    free: int

    @property
    def used(self) -> int:
        """Bytes in use."""
        return self.total - self.free


@define(frozen=True)
class Features:
    """What the firmware's ``os`` module and binascii offer (asked once per connection)."""

    folders: bool
    ilistdir: bool
    statvfs: bool
    base64: str  # the binascii module's name, or "" without one


@define
class Piece:
    """A file being moved: its board path, its size and how much has moved."""

    remote: str
    size: int
    stream: Optional[IO[bytes]] = None
    opener: Optional[Callable[[], IO[bytes]]] = None
    done: int = 0
    asked: int = 0


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------


class BoardPathError(BelayError, OSError):
    """A file operation on the board failed for a path; also an `OSError` with ``errno`` and ``filename``."""


class BoardFileNotFoundError(BoardPathError, FileNotFoundError):
    """No such file or directory on the board."""


class BoardFileExistsError(BoardPathError, FileExistsError):
    """The path already exists on the board."""


class BoardNotADirectoryError(BoardPathError, NotADirectoryError):
    """A path on the board is a file where a directory is needed."""


class BoardIsADirectoryError(BoardPathError, IsADirectoryError):
    """A path on the board is a directory where a file is needed."""


_PATH_ERRORS: dict[int, tuple[type[BoardPathError], str]] = {
    errno.ENOENT: (BoardFileNotFoundError, "No such file or directory on the board"),
    errno.EEXIST: (BoardFileExistsError, "Already exists on the board"),
    errno.ENOTDIR: (BoardNotADirectoryError, "Not a directory on the board"),
    errno.EISDIR: (BoardIsADirectoryError, "Is a directory on the board"),
    errno.ENOTEMPTY: (BoardPathError, "Directory not empty on the board"),
    errno.EACCES: (BoardPathError, "Permission denied on the board"),
    errno.EROFS: (BoardPathError, "Read-only file system on the board"),
    errno.ENOSPC: (BoardPathError, "No space left on the board"),
}

_ERRNO = re.compile(r"^OSError: (?:\[Errno (\d+)\]|(\d+)$)", re.M)


def _path_error(code: int, path: str) -> BoardPathError:
    cls, message = _PATH_ERRORS.get(code, (BoardPathError, os.strerror(code) + " (on the board)"))
    return cls(code, message, path)


@contextmanager
def _about(path: str) -> Iterator[None]:
    """Turn the board's ``OSError`` for ``path`` into a `BoardPathError` naming it."""
    try:
        yield
    except DeviceError as exc:
        if _DAMAGED in exc.traceback or exc.traceback.rstrip().rsplit("\n", 1)[-1].startswith("SyntaxError"):
            # Belay's own code never has a syntax error: the line lost or changed a byte of it.
            raise ProtocolError(
                f"{path!r}: a piece of the file was damaged on the line on its way to the board (its sum did "
                "not match); the board's copy is incomplete: write it again"
            ) from None
        code = _board_errno(exc)
        if code is None:
            raise
        raise _path_error(code, path) from exc


_DAMAGED = "__belay_damaged"
_CHECKED_WRITE = f"""\
def __belay_V(t,s):
 try:b=__belay_D(t)
 except ValueError:b=None
 if b is None or __belay_bk(b)!=s:raise ValueError('{_DAMAGED}')
 __belay_F.write(b)
"""
"""Board side of a put: each piece is decoded and written only if it arrived as sent (its CRC-32 matches)."""


def _board_errno(exc: DeviceError) -> Optional[int]:
    match = _ERRNO.search(exc.traceback)
    if match:
        return int(match.group(1) or match.group(2))
    if exc.traceback.endswith("OSError: file not found"):  # the micro:bit firmware's wording
        return errno.ENOENT
    return None


# --------------------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------------------


def _escape(byte: int) -> str:
    if 0x20 <= byte < 0x7F and byte not in (0x27, 0x5C):
        return chr(byte)
    return {0x27: "\\'", 0x5C: "\\\\", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}.get(byte, f"\\{byte:o}")


_ESCAPES = [_escape(b) for b in range(256)]
_SHORT_OCTAL = re.compile(rb"[\x00-\x3f](?=[0-7])")  # bytes whose short octal escape a digit would extend


def bytes_literal(data: bytes) -> str:
    r"""The shortest bytes literal for ``data`` MicroPython parses: ``b'a\0\377'``.

    Printable ASCII stays as it is; other bytes become ``\n``, ``\r``, ``\t`` or octal escapes (one to
    three digits; three when a digit follows). About 2.9 characters per random byte, 1 for text.
    """
    escapes = _ESCAPES
    out = []
    start = 0
    for match in _SHORT_OCTAL.finditer(data):
        index = match.start()
        byte = data[index]
        out.append("".join(escapes[b] for b in data[start:index]))
        escape = escapes[byte]
        out.append(escape if len(escape) < 2 or escape[1] not in "01234567" else f"\\{byte:03o}")
        start = index + 1
    out.append("".join(escapes[b] for b in data[start:]))
    return "b'" + "".join(out) + "'"


# --------------------------------------------------------------------------------------------------
# Board code
# --------------------------------------------------------------------------------------------------

_FEATURES = """\
def __belay_p():
 f=''
 for m in('ubinascii','binascii'):
  try:a=__import__(m).a2b_base64
  except (ImportError,AttributeError):continue
  if ' at ' not in repr(a):return m
  f=f or m
 return f
__belay_Z=__import__('os')
__belay_r((hasattr(__belay_Z,'mkdir'),hasattr(__belay_Z,'ilistdir'),hasattr(__belay_Z,'statvfs'),__belay_p()))
del __belay_p,__belay_Z
"""

_HASHLIB = """\
__belay_hm=''
for __belay_hs in('hashlib','uhashlib'):
 try:
  if hasattr(__import__(__belay_hs),'sha256'):__belay_hm=__belay_hs;break
 except ImportError:pass
__belay_r(__belay_hm)
del __belay_hm,__belay_hs
__import__('gc').collect()
"""
"""Which module of the firmware has ``sha256`` ('' for none): asked once per connection."""

_SHA256 = """\
__belay_hs=__import__({module!r}).sha256()
try:
 with open({path!r},'rb') as __belay_hf:
  while 1:
   __belay_hm=__belay_hf.read(1024)
   if not __belay_hm:break
   __belay_hs.update(__belay_hm)
 __belay_r(__belay_hs.digest())
finally:
 del __belay_hs,__belay_hm
"""
"""Board side of `BoardFiles.sha256`: the digest by the firmware's ``hashlib``."""

# __belay_T(p): None if missing, else (is_dir, size). __belay_W(p, recursive): [(path, is_dir, size)].
_HELPERS_TREE = """\
__belay_Z=__import__('os')
__belay_F=None
def __belay_J(p,n):
 return n if p=='.' else p.rstrip('/')+'/'+n
def __belay_T(p):
 try:s=__belay_Z.stat(p)
 except OSError:return None
 return(s[0]&0x4000!=0,0 if s[0]&0x4000 else s[6])
def __belay_W(p,r):
 o=[];s=[p]
 while s:
  p=s.pop()
  for e in __belay_Z.ilistdir(p) if __ILIST__ else((n,__belay_Z.stat(__belay_J(p,n))[0]) for n in __belay_Z.listdir(p)):
   q=__belay_J(p,e[0]);t=e[1]
   if t&0xF000 not in(0x4000,0x8000):t=__belay_Z.stat(q)[0]
   d=t&0x4000!=0
   o.append((q,d,0 if d else e[3] if len(e)>3 and e[3]>=0 and t==e[1] else __belay_Z.stat(q)[6]))
   if d and r:s.append(q)
 return o
def __belay_M(p):
 try:__belay_Z.mkdir(p)
 except OSError as e:
  if e.args[0]!=17 or not __belay_T(p)[0]:raise
def __belay_X(p):
 t=__belay_T(p)
 return t and t[0] and(True,__belay_W(p,1))or t
"""

_HELPERS_FLAT = """\
__belay_Z=__import__('os')
__belay_F=None
def __belay_T(p):
 if p=='':return(True,0)
 if p in __belay_Z.listdir():return(False,__belay_Z.size(p))
def __belay_W(p,r):
 return[(n,False,__belay_Z.size(n))for n in __belay_Z.listdir()]
def __belay_X(p):
 t=__belay_T(p)
 return t and t[0] and(True,__belay_W(p,1))or t
"""

_GET_HELPER = """\
def __belay_G(p,n):
 global __belay_F
 if p:
  if __belay_F:__belay_F.close()
  __belay_F=open(p,'rb')
 return __ENCODE__(__belay_F.read(n))
def __belay_P(v):
 v=repr(v)
 print(__belay_m+'R%d%s%d:'%(len(v),__belay_bj,__belay_bk(v)),end='')
 print(v)
"""

_CLEANUP_TREE = "__belay_F,__belay_Z,__belay_J,__belay_T,__belay_W,__belay_M,__belay_X"
_CLEANUP_FLAT = "__belay_F,__belay_Z,__belay_T,__belay_W,__belay_X"


def _remote_norm(path: str) -> str:
    """Normalize a board path: ``"a//b/"`` is ``"a/b"``, ``""`` is ``"."``, leading ``//`` is ``/``."""
    path = posixpath.normpath(path or ".")
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    return path


# --------------------------------------------------------------------------------------------------
# The part
# --------------------------------------------------------------------------------------------------


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _serialised(method: _Method) -> _Method:
    """Run a `BoardFiles` method under the session's lock: a transfer is many calls, never interleaved.

    When the board's state was restored meanwhile (a reconnect with ``attempts=``), the helpers and
    the open file are gone: the whole transfer is done again from its start, as the session retries
    calls (unless ``retry_calls=False``), never left half done.
    """

    @functools.wraps(method)
    def serialised(self: BoardFiles, *args: Any, **kwargs: Any) -> Any:
        session = self.session
        with session.lock:
            for redo in range(session.attempts + 1):
                replays = session.replays
                try:
                    return method(self, *args, **kwargs)
                except BelayError:
                    if session.replays == replays or not session.retry_calls or redo == session.attempts:
                        raise
        raise AssertionError("unreachable")  # pragma: no cover

    return serialised  # type: ignore[return-value]


class BoardFiles:
    """The board's files, over a session: what `belay_core.Device`'s file methods (and sync) use.

    Parameters
    ----------
    session
        The connection (`belay_core.session.Session`).
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------------------------------------------
    # Board facts
    # ------------------------------------------------------------------------------------------------

    @_serialised
    def features(self) -> Features:
        """What the board's file system can do (folders, ``ilistdir``, ``statvfs``): one round trip, then cached."""
        cached = self.session.board_cache.get("fs")
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        features = Features(*self.session.value(_FEATURES))
        self.session.board_cache["fs"] = features
        return features

    def _firmware(self) -> str:
        impl = self.session.implementation
        return f"{impl.name} {'.'.join(map(str, impl.version))} on {impl.platform}"

    def _flat_error(self, what: str) -> FeatureUnavailableError:
        return FeatureUnavailableError(
            f"{what}: the firmware ({self._firmware()}) has a flat file system without folders "
            "(no os.mkdir, os.stat or os.ilistdir); only files at the root can be used"
        )

    def _board_path(self, path: str, features: Features) -> str:
        """The path to use in board code: normalized; on a flat file system, a bare name (root: ``""``)."""
        path = _remote_norm(path)
        if features.folders:
            return path
        name = path.lstrip("/")
        if name in ("", "."):
            return ""
        if "/" in name:
            raise self._flat_error(f"{path!r} is in a folder")
        return name

    def _helpers(self, features: Features) -> str:
        if not features.folders:
            return _HELPERS_FLAT
        return _HELPERS_TREE.replace("__ILIST__", "1" if features.ilistdir else "0")

    def _cleanup(self, features: Features, extra: str = "") -> str:
        names = _CLEANUP_TREE if features.folders else _CLEANUP_FLAT
        return f"if __belay_F:__belay_F.close()\ndel {names}{',' + extra if extra else ''}\n"

    def _query(self, features: Features, expression: str, path: str) -> Any:
        """Evaluate ``expression`` with the board helpers defined, deleting them afterwards."""
        code = f"{self._helpers(features)}try:__belay_r({expression})\nfinally:\n{_indent(self._cleanup(features))}"
        with _about(path):
            return self.session.value(code)

    def _do(self, features: Features, statements: str, path: str) -> None:
        code = f"{self._helpers(features)}try:\n{_indent(statements)}finally:\n{_indent(self._cleanup(features))}"
        with _about(path):
            self.session.run(code, stream_out=None)

    # ------------------------------------------------------------------------------------------------
    # Queries
    # ------------------------------------------------------------------------------------------------

    def _stat(self, path: str) -> Optional[tuple[bool, int]]:
        features = self.features()
        where = self._board_path(path, features)
        result = self._query(features, f"__belay_T({where!r})", path)
        return None if result is None else (bool(result[0]), int(result[1]))

    @_serialised
    def exists(self, path: str) -> bool:
        """Whether ``path`` exists on the board (file or directory)."""
        return self._stat(path) is not None

    @_serialised
    def is_dir(self, path: str) -> bool:
        """Whether ``path`` is a directory on the board."""
        stat = self._stat(path)
        return stat is not None and stat[0]

    @_serialised
    def size(self, path: str) -> int:
        """Size in bytes of the file ``path`` on the board.

        Raises
        ------
        BoardFileNotFoundError
            When there is no such file.
        BoardIsADirectoryError
            When it is a directory.
        """
        stat = self._stat(path)
        if stat is None:
            raise _path_error(errno.ENOENT, path)
        if stat[0]:
            raise _path_error(errno.EISDIR, path)
        return stat[1]

    @_serialised
    def listdir(self, path: str = "/") -> list[FileInfo]:
        """The entries of directory ``path`` on the board, sorted by name: one round trip.

        Raises
        ------
        BoardFileNotFoundError
            When ``path`` does not exist.
        BoardNotADirectoryError
            When ``path`` is a file.
        """
        return self._list(path, recursive=False)

    @_serialised
    def walk(self, path: str = "/") -> list[FileInfo]:
        """Every file and directory under ``path`` on the board, depth first, sorted: one round trip.

        Paths are ``path`` joined with the names below it; parents come before their contents.
        """
        return self._list(path, recursive=True)

    def _list(self, path: str, recursive: bool) -> list[FileInfo]:
        features = self.features()
        where = self._board_path(path, features)
        found = self._query(features, f"__belay_X({where!r})", path)
        if found is None:
            raise _path_error(errno.ENOENT, path)
        if not found[0]:
            raise _path_error(errno.ENOTDIR, path)
        base = _remote_norm(path)
        if not features.folders:
            base = "/" if base.startswith("/") else ""
        entries = []
        for board_path, is_dir, size in found[1]:
            relative = board_path if not features.folders else posixpath.relpath(board_path, where)
            if not recursive and "/" in relative:
                continue
            shown = posixpath.join(base, relative) if base not in ("", ".") else relative
            entries.append(FileInfo(shown, posixpath.basename(relative), bool(is_dir), int(size)))
        return _depth_first(entries)

    @_serialised
    def df(self) -> DiskUsage:
        """Total and free bytes of the board's file system (``os.statvfs`` of the current directory).

        Raises
        ------
        FeatureUnavailableError
            When the firmware has no ``os.statvfs`` (the micro:bit's).
        """
        features = self.features()
        if not features.statvfs:
            raise FeatureUnavailableError(
                f"the firmware ({self._firmware()}) has no os.statvfs: free space cannot be measured"
            )
        stat = self.session.value("__belay_r(__import__('os').statvfs('.'))")
        block = stat[1] or stat[0]
        return DiskUsage(total=block * stat[2], free=block * stat[4])

    # ------------------------------------------------------------------------------------------------
    # Changes
    # ------------------------------------------------------------------------------------------------

    @_serialised
    def remove(self, path: str, recursive: bool = False) -> None:
        """Remove the file or (empty, or with ``recursive`` any) directory ``path`` on the board.

        Raises
        ------
        BoardFileNotFoundError
            When ``path`` does not exist.
        BoardPathError
            When a directory is not empty and ``recursive`` is not given.
        """
        features = self.features()
        where = self._board_path(path, features)
        if where in ("", "/", "."):
            raise BelayError(f"refusing to remove the board's root or current directory ({path!r})")
        if not features.folders:
            self._do(features, f"__belay_Z.remove({where!r})", path)
            return
        code = (
            f"__belay_t=__belay_T({where!r})\n"
            f"if __belay_t is None:__belay_Z.stat({where!r})\n"  # raises ENOENT
            "if __belay_t[0]:\n"
            f" for __belay_t in reversed(__belay_W({where!r},1))if {int(recursive)} else():\n"
            "  (__belay_Z.rmdir if __belay_t[1] else __belay_Z.remove)(__belay_t[0])\n"
            f" __belay_Z.rmdir({where!r})\n"
            f"else:__belay_Z.remove({where!r})\n"
            "del __belay_t\n"
        )
        self._do(features, code, path)

    @_serialised
    def mkdir(self, path: str, parents: bool = False) -> None:
        """Make directory ``path`` on the board.

        Parameters
        ----------
        parents
            Also make missing parents, and accept an existing directory (like ``mkdir -p``).

        Raises
        ------
        BoardFileExistsError
            When ``path`` exists (and ``parents`` is not given, or it is a file).
        BoardFileNotFoundError
            When the parent is missing and ``parents`` is not given.
        FeatureUnavailableError
            On firmware without folders (the micro:bit's).
        """
        features = self.features()
        if not features.folders:
            raise self._flat_error(f"cannot make directory {path!r}")
        where = self._board_path(path, features)
        if parents:
            code = "".join(f"__belay_M({p!r})\n" for p in _ancestors(where, include_self=True))
        else:
            code = f"__belay_Z.mkdir({where!r})\n"
        try:
            self._do(features, code, path)
        except BoardFileNotFoundError:
            raise self._missing_parent(where) from None

    def _missing_parent(self, where: str) -> BoardPathError:
        """The error for a path whose parent folder is missing: it names the parent, not the path."""
        parent = posixpath.dirname(where.rstrip("/")) or "/"
        stat = self._stat(parent)
        if stat is None:
            return BoardFileNotFoundError(errno.ENOENT, "No such directory on the board", parent)
        if not stat[0]:
            return BoardNotADirectoryError(errno.ENOTDIR, "Not a directory on the board", parent)
        return _path_error(errno.ENOENT, where)

    @_serialised
    def rmdir(self, path: str) -> None:
        """Remove the empty directory ``path`` on the board.

        Raises
        ------
        BoardFileNotFoundError
            When ``path`` does not exist.
        BoardNotADirectoryError
            When it is a file.
        BoardPathError
            When it is not empty.
        """
        stat = self._stat(path)
        if stat is None:
            raise _path_error(errno.ENOENT, path)
        if not stat[0]:
            raise _path_error(errno.ENOTDIR, path)
        self.remove(path)

    @_serialised
    def touch(self, path: str) -> None:
        """Make the empty file ``path`` on the board if it does not exist; an existing file is left as it is.

        Raises
        ------
        BoardFileNotFoundError
            When the parent folder is missing (named in the error).
        BoardIsADirectoryError
            When ``path`` is a directory.
        """
        features = self.features()
        where = self._board_path(path, features)
        stat = self._stat(path)
        if stat is not None:
            if stat[0]:
                raise _path_error(errno.EISDIR, path)
            return
        try:
            self._do(features, f"open({where!r},'wb').close()\n", path)
        except BoardFileNotFoundError:
            raise self._missing_parent(where) from None

    @_serialised
    def sha256(self, path: str) -> str:
        """The SHA-256 of the file ``path`` on the board, in hex: computed there with the firmware's ``hashlib``.

        Firmware without ``hashlib.sha256`` (the micro:bit's) sends the file, and the host computes it.

        Raises
        ------
        BoardFileNotFoundError
            When there is no such file.
        BoardIsADirectoryError
            When it is a directory.
        """
        import hashlib

        self.size(path)  # the clear errors for a missing file or a directory
        where = self._board_path(path, self.features())
        module = self.session.board_cache.get("sha256")
        if module is None:
            module = self.session.board_cache["sha256"] = self.session.value(_HASHLIB)
        if not module:
            return hashlib.sha256(self.read_bytes(path)).hexdigest()
        with _about(path):
            return bytes(self.session.value(_SHA256.format(module=module, path=where))).hex()

    @_serialised
    def read_bytes(self, path: str) -> bytes:
        """The contents of the file ``path`` on the board.

        Raises
        ------
        BoardFileNotFoundError
            When there is no such file.
        BoardIsADirectoryError
            When it is a directory.
        """
        sink = _Sink()

        def target(root: str, is_dir: bool, members: list[str]) -> Callable[[str, bool], Optional[IO[bytes]]]:
            if is_dir:
                raise _path_error(errno.EISDIR, path)
            return lambda board_path, entry_is_dir: sink

        self._get_files(path, target)
        return sink.data

    def read_text(self, path: str, encoding: str = "utf-8") -> str:
        """The contents of the file ``path`` on the board, decoded."""
        return self.read_bytes(path).decode(encoding)

    @_serialised
    def write_bytes(self, path: str, data: bytes) -> None:
        """Make (or overwrite) the file ``path`` on the board with ``data``; missing parents are made."""
        features = self.features()
        where = self._board_path(path, features)
        data = bytes(data)

        def plan(stat: Optional[tuple[bool, int]]) -> tuple[list[str], list[Piece]]:
            if stat is not None and stat[0]:
                raise _path_error(errno.EISDIR, path)
            return _ancestors(where) if features.folders else [], [Piece(where, len(data), opener=_memory(data))]

        self._put_files(features, where, plan)

    def write_text(self, path: str, text: str, encoding: str = "utf-8") -> None:
        """Make (or overwrite) the file ``path`` on the board with ``text``, encoded."""
        self.write_bytes(path, text.encode(encoding))

    # ------------------------------------------------------------------------------------------------
    # Transfer
    # ------------------------------------------------------------------------------------------------

    @_serialised
    def put(self, local: LocalPath, remote: str = ".", *, progress: Optional[TransferProgress] = None) -> list[str]:
        """Copy a host file or folder to the board.

        Parameters
        ----------
        local
            A host file or folder.
        remote
            Where on the board. A file goes to ``remote``, or into it when it is a directory (or ends
            with ``/``), keeping its name; a folder's contents go into directory ``remote``. Missing
            directories are made.
        progress
            Called as ``progress(board_path, done, total)`` when a file starts and after each chunk.

        Returns
        -------
        list[str]
            The board paths of the files written.

        Raises
        ------
        FileNotFoundError
            When ``local`` does not exist.
        FeatureUnavailableError
            For folders, or paths in folders, on a flat file system (the micro:bit's).
        """
        source = Path(local)
        if not source.exists():
            raise FileNotFoundError(errno.ENOENT, "No such file or directory on the host", str(source))
        features = self.features()
        if source.is_dir() and not features.folders:
            raise self._flat_error(f"cannot put folder {str(source)!r}")
        target = self._board_path(remote, features)

        def plan(stat: Optional[tuple[bool, int]]) -> tuple[list[str], list[Piece]]:
            if target in ("", ".", "/"):
                stat = (True, 0)
            pieces: list[Piece] = []
            if source.is_dir():
                if stat is not None and not stat[0]:
                    raise _path_error(errno.ENOTDIR, remote)
                dirs = _ancestors(target, include_self=True)
                for root, subdirs, files in os.walk(source):
                    subdirs.sort()
                    relative = Path(root).relative_to(source).as_posix()
                    base = target if relative == "." else _join(target, relative)
                    if relative != ".":
                        dirs.append(base)
                    for name in sorted(files):
                        file = Path(root, name)
                        pieces.append(Piece(_join(base, name), file.stat().st_size, opener=_reader(file)))
                return dirs, pieces
            into = (stat is not None and stat[0]) or remote.endswith("/")
            destination = _join(target, source.name) if into else target
            dirs = _ancestors(destination) if features.folders else []
            return dirs, [Piece(destination, source.stat().st_size, opener=_reader(source))]

        return [p.remote for p in self._put_files(features, target, plan, progress)]

    @_serialised
    def get(self, remote: str, local: LocalPath = ".", *, progress: Optional[TransferProgress] = None) -> list[Path]:
        """Copy a board file or directory to the host.

        Parameters
        ----------
        remote
            A file or directory on the board.
        local
            Where on the host. A file goes to ``local``, or into it when it is a folder (or ends with
            the path separator), keeping its name; a directory's contents go into folder ``local``.
            Missing folders are made.
        progress
            Called as ``progress(board_path, done, total)`` when a file starts and after each chunk.

        Returns
        -------
        list[Path]
            The host files written.

        Raises
        ------
        BoardFileNotFoundError
            When ``remote`` does not exist on the board.
        """
        written: list[Path] = []

        def target(root: str, is_dir: bool, members: list[str]) -> Callable[[str, bool], Optional[IO[bytes]]]:
            destination = Path(local)
            if is_dir:
                # Every name the board listed must lead inside ``destination``: checked before anything is made.
                places = {member: _host_place(destination, root, member, local) for member in members}
                destination.mkdir(parents=True, exist_ok=True)
                locate = places.__getitem__
            else:
                if destination.is_dir() or str(local).endswith(("/", os.sep)):
                    destination = destination / posixpath.basename(root)

                def locate(board_path: str) -> Path:
                    return destination

            def open_for(board_path: str, entry_is_dir: bool) -> Optional[IO[bytes]]:
                path = locate(board_path)
                if entry_is_dir:
                    path.mkdir(parents=True, exist_ok=True)
                    return None
                path.parent.mkdir(parents=True, exist_ok=True)
                written.append(path)
                return _PartFile(path)

            return open_for

        self._get_files(remote, target, progress)
        return written

    # ------------------------------------------------------------------------------------------------
    # Engines
    # ------------------------------------------------------------------------------------------------

    def _budget(self, mem_free: int, base64: bool, direction: str) -> int:
        """Data bytes per exec for a board with ``mem_free`` bytes of heap free."""
        if base64:
            # The code (or output) string, the decoded bytes and the lexer's copy fit many times over.
            share = mem_free // 12
        elif direction == "put":
            # Classic raw REPL (no binascii means an old or tiny firmware): the source is kept whole,
            # then lexed; up to 4 characters per byte, in a small and fragmented heap.
            share = mem_free // 24
        else:
            share = mem_free // 32  # up to 4 characters of repr per byte, then printed
        return max(MIN_CHUNK, min(MAX_CHUNK, share))

    def _begin(self, features: Features, extra: str, expression: str, path: str, cleanup: str) -> Any:
        """Define the helpers (kept until ``cleanup``) and return ``(gc.mem_free(), expression)``."""
        code = (
            self._helpers(features)
            + extra
            + f"__import__('gc').collect()\n__belay_r((__import__('gc').mem_free(),{expression}))\n"
        )
        try:
            with _about(path):
                return self.session.value(code)
        except BaseException:
            self._quiet(cleanup)
            raise

    @_serialised
    def write_many(
        self,
        contents: Mapping[str, bytes],
        dirs: Sequence[str] = (),
        *,
        progress: Optional[Callable[[str, int, int], None]] = None,
        byte_progress: Optional[TransferProgress] = None,
    ) -> None:
        """Make directories ``dirs``, then write each board path of ``contents``, batched as `put` batches.

        Parameters
        ----------
        contents
            Board path to the bytes it must hold.
        dirs
            Directories to make first, parents before children.
        progress
            ``progress(path, done, total)`` once per file written, ``done`` counting files.
        byte_progress
            ``byte_progress(path, done, size)`` as `put` calls its ``progress``: bytes of each file.
        """
        pieces = [Piece(path, len(data), opener=_memory(data)) for path, data in contents.items()]
        finished: set[str] = set()

        def report(path: str, done: int, total: int) -> None:
            if byte_progress is not None:
                byte_progress(path, done, total)
            if progress is not None and done == total and path not in finished:
                finished.add(path)
                progress(path, len(finished), len(pieces))

        self._put_files(self.features(), "/", lambda _stat: (list(dirs), pieces), report)

    def _put_files(
        self,
        features: Features,
        target: str,
        plan: Callable[[Optional[tuple[bool, int]]], tuple[list[str], list[Piece]]],
        progress: Optional[TransferProgress] = None,
    ) -> list[Piece]:
        if features.base64:
            extra = f"__belay_D=__import__({features.base64!r}).a2b_base64\n" + _CHECKED_WRITE

            def encode(data: bytes) -> str:
                text = binascii.b2a_base64(data, newline=False).decode()
                return f"__belay_V({text!r},{zlib.crc32(data)})\n"

        else:  # firmware without binascii (the micro:bit's): its tiny heap has no room for the check
            extra = ""

            def encode(data: bytes) -> str:
                return f"__belay_F.write({bytes_literal(data)})\n"

        cleanup = self._cleanup(features, "__belay_D,__belay_V" if features.base64 else "")
        mem_free, stat = self._begin(features, extra, f"__belay_T({target!r})", target, cleanup)
        try:
            dirs, pieces = plan(None if stat is None else (bool(stat[0]), int(stat[1])))
            budget = self._budget(mem_free, bool(features.base64), "put")
            lines: list[str] = [f"__belay_M({d!r})\n" for d in dirs]
            used = FILE_COST * len(dirs)
            touched: list[Piece] = []
            current = dirs[0] if dirs else target

            def flush() -> None:
                nonlocal used
                with _about(current):
                    self.session.run("".join(lines), stream_out=None)
                lines.clear()
                used = 0
                _report(touched, progress)

            for piece in pieces:
                if progress is not None:
                    progress(piece.remote, 0, piece.size)
                assert piece.opener is not None
                with piece.opener() as stream:
                    if lines and used + FILE_COST > budget:
                        flush()
                    current = piece.remote
                    lines.append(f"__belay_F=open({piece.remote!r},'wb')\n")
                    used += FILE_COST
                    touched.append(piece)
                    left = piece.size
                    while left:
                        if used >= budget:
                            flush()
                            touched.append(piece)
                        data = stream.read(min(left, budget - used, LINE_CHUNK))
                        if not data:
                            raise BelayError(f"{piece.remote!r}: the host file shrank while it was copied")
                        lines.append(encode(data))
                        used += len(data)
                        left -= len(data)
                        piece.done += len(data)
                    lines.append("__belay_F.close()\n__belay_F=None\n")
            # In statements of at most 100 items: one display of thousands overflows a small Python stack.
            sizes = (
                "__belay_z=[]\n"
                + "".join(
                    "__belay_z+=(" + "".join(f"__belay_T({p.remote!r})[1]," for p in pieces[at : at + 100]) + ")\n"
                    for at in range(0, len(pieces), 100)
                )
                + "__belay_r(__belay_z)\ndel __belay_z\n"
            )
            with _about(current):
                found = self.session.value("".join(lines) + sizes + cleanup)
        except BaseException:
            self._quiet(cleanup)
            raise
        _report(touched, progress)
        for piece, size in zip(pieces, found):
            if size != piece.size:
                raise BelayError(f"{piece.remote!r} is {size} bytes on the board after writing {piece.size}")
        return pieces

    def _quiet(self, code: str) -> None:
        """Run clean-up code, ignoring its failure (the error being raised matters more)."""
        try:
            self.session.run(f"try:\n{_indent(code)}except Exception:pass\n", stream_out=None)
        except BelayError:
            pass

    def _get_files(
        self,
        remote: str,
        target: Callable[[str, bool, list[str]], Callable[[str, bool], Optional[IO[bytes]]]],
        progress: Optional[TransferProgress] = None,
    ) -> None:
        features = self.features()
        where = self._board_path(remote, features)
        encoder = f"__import__({features.base64!r}).b2a_base64" if features.base64 else "(lambda b:b)"
        extra = f"__belay_E={encoder}\n" + _GET_HELPER.replace("__ENCODE__", "__belay_E")
        cleanup = self._cleanup(features, "__belay_E,__belay_G,__belay_P")
        mem_free, found = self._begin(features, extra, f"__belay_X({where!r})", remote, cleanup)
        pieces: list[Piece] = []
        try:
            if found is None:
                raise _path_error(errno.ENOENT, remote)
            is_dir = bool(found[0])
            if is_dir:
                entries = sorted((p, bool(d), int(s)) for p, d, s in found[1])
            else:
                entries = [(where, False, int(found[1]))]
            open_for = target(where, is_dir, [entry[0] for entry in entries])
            for board_path, entry_is_dir, size in entries:
                if entry_is_dir:
                    open_for(board_path, True)
                else:
                    pieces.append(Piece(board_path, size, opener=_file_opener(open_for, board_path)))
            self._get_pieces(pieces, self._budget(mem_free, bool(features.base64), "get"), features, progress, cleanup)
        except BaseException:
            for piece in pieces:
                if piece.stream is not None:
                    _discard(piece.stream)
            self._quiet(cleanup)
            raise

    def _get_pieces(
        self,
        pieces: list[Piece],
        budget: int,
        features: Features,
        progress: Optional[TransferProgress],
        cleanup: str,
    ) -> None:
        decode: Callable[[bytes], bytes] = binascii.a2b_base64 if features.base64 else bytes
        queue = list(pieces)
        while True:
            calls: list[str] = []
            parts: list[Piece] = []
            used = 0
            while queue:
                piece = queue[0]
                opening = piece.stream is None
                room = budget - used - (FILE_COST if opening else 0)
                left = piece.size - piece.asked
                if calls and (room <= 0 if left else room < 0):
                    break
                want = min(left, room)
                if opening:
                    if progress is not None:
                        progress(piece.remote, 0, piece.size)
                    assert piece.opener is not None
                    piece.stream = piece.opener()
                    calls.append(f"__belay_G({piece.remote!r},{want}),")
                else:
                    calls.append(f"__belay_G(0,{want}),")
                used += want + (FILE_COST if opening else 0)
                piece.asked += want
                parts.append(piece)
                if piece.asked < piece.size:
                    break
                queue.pop(0)
            last = not queue
            code = "__belay_P((" + "".join(calls) + "))\n" + (cleanup if last else "")
            with _about(parts[-1].remote if parts else "."):
                chunks = self.session.value(code)
            for piece, chunk in zip(parts, chunks):
                data = decode(chunk)
                assert piece.stream is not None
                piece.stream.write(data)
                piece.done += len(data)
                if progress is not None:
                    progress(piece.remote, piece.done, piece.size)
                if piece.asked >= piece.size:
                    if piece.done != piece.size:
                        raise BelayError(
                            f"{piece.remote!r}: read {piece.done} bytes from the board, expected {piece.size}"
                        )
                    piece.stream.close()
            if last:
                return


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


class _PartFile(io.FileIO):
    """A host file written beside its place (``.NAME.belay-part``) and moved there once complete.

    A get that fails part way (a cut line, a damaged answer, Ctrl-C) leaves the host file it was
    replacing as it was, and no partial file: `_discard` removes the part.
    """

    def __init__(self, path: Path) -> None:
        self.final = path
        super().__init__(path.with_name(f".{path.name}.belay-part"), "wb")

    def close(self) -> None:
        """Finish the file: it takes the place of the host file."""
        if not self.closed:
            super().close()
            os.replace(str(self.name), self.final)

    def discard(self) -> None:
        """Drop what was written; the host file stays as it was. A finished file is left alone."""
        if self.closed:  # finished, or discarded already: the part's name may be a later get's by now
            return
        super().close()
        with suppress(OSError):
            os.unlink(str(self.name))

    def __del__(self) -> None:  # never finish a file nobody closed
        self.discard()


def _discard(stream: IO[bytes]) -> None:
    """Close a stream of a failed get, dropping what it wrote where it can."""
    if isinstance(stream, _PartFile):
        stream.discard()
    else:
        stream.close()


class _Sink(io.BytesIO):
    """An in-memory file that keeps its contents once closed."""

    data = b""

    def close(self) -> None:
        if not self.closed:
            self.data = self.getvalue()
        super().close()


def _report(touched: list[Piece], progress: Optional[TransferProgress]) -> None:
    if progress is not None:
        seen: set[int] = set()
        for piece in touched:
            if id(piece) not in seen:
                seen.add(id(piece))
                progress(piece.remote, piece.done, piece.size)
    touched.clear()


def _indent(code: str) -> str:
    return "".join(" " + line + "\n" for line in code.splitlines())


def _join(base: str, name: str) -> str:
    return name if base in ("", ".") else base.rstrip("/") + "/" + name


def _ancestors(path: str, include_self: bool = False) -> list[str]:
    """Directories to make for ``path``: ``"/a/b/c"`` gives ``["/a", "/a/b"]`` (and ``"/a/b/c"``)."""
    parts = path.split("/")
    found = []
    for end in range(1, len(parts) + (1 if include_self else 0)):
        prefix = "/".join(parts[:end])
        if prefix not in ("", ".", ".."):
            found.append(prefix)
    return found


def _depth_first(entries: list[FileInfo]) -> list[FileInfo]:
    return sorted(entries, key=lambda e: e.path.split("/"))


def _host_place(destination: Path, root: str, member: str, local: LocalPath) -> Path:
    """Where the board's ``member`` (listed under its folder ``root``) goes inside ``destination``.

    Raises
    ------
    UnsafeBoardPathError
        When the name leads anywhere else: a member outside ``root``, or a part that is empty, ``.``,
        ``..``, absolute, a drive, or holds a backslash or NUL.
    """
    prefix = "" if root == "" else root.rstrip("/") + "/"
    relative = member[len(prefix) :] if member.startswith(prefix) else None
    parts = [] if relative is None else relative.split("/")
    unsafe = not parts or any(
        part in ("", ".", "..") or "\\" in part or "\x00" in part or PureWindowsPath(part).drive for part in parts
    )
    if unsafe:
        raise UnsafeBoardPathError(
            f"the board listed {member!r} in {root or '/'!r}: it would be written outside {os.fspath(local)!r}, "
            "so nothing was written"
        )
    return destination.joinpath(*parts)


def _file_opener(open_for: Callable[[str, bool], Optional[IO[bytes]]], path: str) -> Callable[[], IO[bytes]]:
    """The opener of the host file a board file ``path`` is fetched into (``open_for`` opens files, never None)."""

    def opener() -> IO[bytes]:
        stream = open_for(path, False)
        assert stream is not None, path
        return stream

    return opener


def _memory(data: bytes) -> Callable[[], IO[bytes]]:
    return lambda: io.BytesIO(data)


def _reader(path: Path) -> Callable[[], IO[bytes]]:
    return lambda: open(path, "rb")
