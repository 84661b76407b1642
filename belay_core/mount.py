"""A host folder as a directory of the board, served over the same line while the board's code runs.

`Device.mount` puts a small virtual file system on the board (MicroPython's user VFS: a class with
``open``, ``stat``, ``ilistdir`` ... mounted with ``os.mount``) whose every operation asks the host:
the board prints a request frame (``Q``, with the connection's token, length and CRC-32, as results
travel) and reads the answer from its stdin (``\\x02 TOKEN A KIND LENGTH \\n PAYLOAD``: it skips what
comes before the mark, such as keys typed at the REPL meanwhile), with Ctrl-C handling switched off
while it reads. `MountServer` answers from the host folder, for as long as the board
runs code Belay sent (`belay_core.session.Session.services`). Files are opened as ``io.IOBase``
objects, so ``import`` reads them as the firmware reads its own files.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from stat import S_ISDIR
from typing import IO, TYPE_CHECKING, Any, Optional, Union

from attrs import define, field

from belay_core.errors import BelayError, FeatureUnavailableError

if TYPE_CHECKING:
    from types import TracebackType

    from belay_core.session import Session

SERVICE = "fs"
"""The name of the mount's service in `belay_core.session.Session.services`."""

DEFAULT_MOUNTPOINT = "/remote"
"""Where `Device.mount` puts the host folder, as mpremote's ``mount`` does."""

_BOARD = """\
import io
def __belay_q(*a):
 __belay_f('Q',__belay_br(({service!r},)+a))
 import micropython as m
 m.kbd_intr(-1)
 try:
  i=__import__('sys').stdin.buffer;t=(__belay_m+'A').encode();h=b''
  while h[-__belay_bl(t):]!=t:h=(h+i.read(1))[-64:]
  h=b''
  while h[-1:]!=b'\\n':h+=i.read(1)
  n=int(h[1:]);d=b''
  while __belay_bl(d)<n:d+=i.read(n-__belay_bl(d))
 finally:m.kbd_intr(3)
 if h[:1]==b'e':raise OSError(int(d))
 return d if h[:1]==b'b' else eval(d.decode())
class __belay_MF(io.IOBase):
 def __init__(s,d,t):s.d=d;s.t=t
 def readinto(s,b):
  d=__belay_q('r',s.d,__belay_bl(b));b[:__belay_bl(d)]=d;return __belay_bl(d)
 def read(s,n=-1):
  d=__belay_q('r',s.d,n);return d.decode()if s.t else d
 def readline(s,n=-1):
  d=__belay_q('l',s.d,n);return d.decode()if s.t else d
 def readlines(s):return[l for l in s]
 def __iter__(s):return s
 def __next__(s):
  l=s.readline()
  if not l:raise StopIteration
  return l
 def write(s,b):return __belay_q('w',s.d,b.encode()if s.t else __belay_bb(b))
 def seek(s,o,w=0):return __belay_q('k',s.d,o,w)
 def tell(s):return __belay_q('k',s.d,0,1)
 def flush(s):pass
 def close(s):
  if s.d is not None:__belay_q('c',s.d);s.d=None
 def ioctl(s,r,a):
  if r==4:s.close()
  return 0
 def __enter__(s):return s
 def __exit__(s,*a):s.close()
class __belay_MV:
 def __init__(s):s.c='/'
 def p(s,p):return p if p[:1]=='/'else s.c.rstrip('/')+'/'+p
 def mount(s,r,m):pass
 def umount(s):pass
 def chdir(s,p):
  p=s.p(p)
  if not __belay_q('s',p)[0]&0x4000:raise OSError(20)
  s.c=p
 def getcwd(s):return s.c
 def ilistdir(s,p):return iter(__belay_q('d',s.p(p)))
 def stat(s,p):return __belay_q('s',s.p(p))
 def statvfs(s,p):return __belay_q('v',s.p(p))
 def open(s,p,m):return __belay_MF(__belay_q('o',s.p(p),m),'b'not in m)
 def remove(s,p):__belay_q('rm',s.p(p))
 def rmdir(s,p):__belay_q('rd',s.p(p))
 def mkdir(s,p):__belay_q('md',s.p(p))
 def rename(s,a,b):__belay_q('mv',s.p(a),s.p(b))
"""
"""The board side: the request helper, the file class and the VFS class (names Belay keeps)."""

_CAN_MOUNT = """\
try:__belay_r(hasattr(__import__('os'),'mount')and hasattr(__import__('io'),'IOBase'))
except ImportError:__belay_r(False)
"""

_MODE_DIR, _MODE_FILE = 0x4000, 0x8000


@define
class MountServer:
    """Answers a mounted board's file requests from the host folder ``root``.

    Every path the board gives is taken inside ``root`` (``..`` cannot leave it); ``readonly`` refuses
    every change with ``EROFS``.
    """

    root: Path
    readonly: bool = False
    files: dict[int, IO[bytes]] = field(factory=dict)
    next_fd: int = 1

    def __call__(self, op: str, *args: Any) -> tuple[bytes, bytes]:
        """One request: ``op`` and its arguments as the board sent them; the answer's kind and payload."""
        handler = getattr(self, f"_op_{op}", None)
        if handler is None:
            raise OSError(errno.EINVAL, f"unknown mount request {op!r}")
        result = handler(*args)
        if isinstance(result, bytes):
            return b"b", result
        return b"v", repr(result).encode()

    def close(self) -> None:
        """Close every host file the board left open."""
        for stream in self.files.values():
            stream.close()
        self.files.clear()

    # Paths ------------------------------------------------------------------------------------------

    def _host(self, board_path: str) -> Path:
        parts = [p for p in board_path.split("/") if p not in ("", ".")]
        kept: list[str] = []
        for part in parts:
            if part == "..":
                if kept:
                    kept.pop()
            else:
                kept.append(part)
        return self.root.joinpath(*kept)

    def _writable(self) -> None:
        if self.readonly:
            raise OSError(errno.EROFS, "mounted read-only")

    # Requests ---------------------------------------------------------------------------------------

    def _op_s(self, path: str) -> tuple[int, ...]:
        stat = self._host(path).stat()
        mode = _MODE_DIR if S_ISDIR(stat.st_mode) else _MODE_FILE
        size = 0 if mode == _MODE_DIR else stat.st_size
        return (mode, 0, 0, 0, 0, 0, size, int(stat.st_atime), int(stat.st_mtime), int(stat.st_ctime))

    def _op_d(self, path: str) -> list[tuple[str, int, int, int]]:
        entries = []
        for entry in sorted(os.scandir(self._host(path)), key=lambda e: e.name):
            is_dir = entry.is_dir()
            entries.append((entry.name, _MODE_DIR if is_dir else _MODE_FILE, 0, 0 if is_dir else entry.stat().st_size))
        return entries

    def _op_v(self, path: str) -> tuple[int, ...]:
        stat = os.statvfs(self._host(path))
        return (
            stat.f_bsize,
            stat.f_frsize,
            stat.f_blocks,
            stat.f_bfree,
            stat.f_bavail,
            stat.f_files,
            stat.f_ffree,
            stat.f_favail,
            stat.f_flag,
            stat.f_namemax,
        )

    def _op_o(self, path: str, mode: str) -> int:
        host = self._host(path)
        if any(c in mode for c in "wax+"):
            self._writable()
        if host.is_dir():
            raise OSError(errno.EISDIR, "is a directory")
        flags = mode.replace("b", "").replace("t", "") or "r"
        self.files[self.next_fd] = open(host, flags + "b")  # noqa: SIM115 (kept open for the board)
        self.next_fd += 1
        return self.next_fd - 1

    def _file(self, fd: int) -> IO[bytes]:
        stream = self.files.get(fd)
        if stream is None:
            raise OSError(errno.EBADF, "file not open")
        return stream

    def _op_r(self, fd: int, size: int) -> bytes:
        return self._file(fd).read(size if size >= 0 else -1)

    def _op_l(self, fd: int, size: int) -> bytes:
        return self._file(fd).readline(size)

    def _op_w(self, fd: int, data: bytes) -> int:
        self._writable()
        return self._file(fd).write(data)

    def _op_k(self, fd: int, offset: int, whence: int) -> int:
        return self._file(fd).seek(offset, whence)

    def _op_c(self, fd: int) -> None:
        stream = self.files.pop(fd, None)
        if stream is not None:
            stream.close()

    def _op_rm(self, path: str) -> None:
        self._writable()
        self._host(path).unlink()

    def _op_rd(self, path: str) -> None:
        self._writable()
        self._host(path).rmdir()

    def _op_md(self, path: str) -> None:
        self._writable()
        self._host(path).mkdir()

    def _op_mv(self, old: str, new: str) -> None:
        self._writable()
        self._host(old).rename(self._host(new))


class Mount:
    """A host folder mounted on the board; `unmount` (or leaving the ``with`` block) takes it away.

    Made by `belay_core.Device.mount`.
    """

    def __init__(
        self, session: Session, local: Union[str, os.PathLike[str]], mountpoint: str, *, readonly: bool, chdir: bool
    ) -> None:
        root = Path(local).resolve()
        if not root.is_dir():
            raise BelayError(f"cannot mount {str(local)!r}: not a folder")
        if not mountpoint.startswith("/") or mountpoint == "/":
            raise BelayError(f"mount point {mountpoint!r}: give an absolute path below / (default /remote)")
        if SERVICE in session.services:
            raise BelayError("a folder is mounted already: unmount it first")
        self.session = session
        self.local = root
        self.mountpoint = mountpoint.rstrip("/")
        if not session.value(_CAN_MOUNT):
            raise FeatureUnavailableError("the firmware cannot mount a host folder (it has no os.mount or io.IOBase)")
        self.server: MountServer = MountServer(root, readonly)
        session.services[SERVICE] = self.server
        setup = (
            _BOARD.format(service=SERVICE)
            + f"__import__('os').mount(__belay_MV(),{self.mountpoint!r})\n"
            + (f"__import__('os').chdir({self.mountpoint!r})\n" if chdir else "")
        )
        try:
            session.run(setup, record=True)
        except BaseException:
            del session.services[SERVICE]
            raise

    def unmount(self) -> None:
        """Take the folder away from the board (and go back to ``/`` if the board was in it)."""
        if SERVICE not in self.session.services:
            return
        try:
            self.session.run(
                "import os\n"
                f"if os.getcwd().startswith({self.mountpoint!r}):os.chdir('/')\n"
                f"os.umount({self.mountpoint!r})\n"
                "del __belay_q,__belay_MF,__belay_MV\n",
                record=True,
            )
        finally:
            self.session.services.pop(SERVICE, None)
            self.server.close()

    def __enter__(self) -> Mount:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        if not self.session.closed:
            self.unmount()
