"""File hashers: compare host and board files without moving their bytes.

A hasher has a host side (`Hasher.host_hash`) and a board side (`Hasher.board_code`, which defines
``__belay_hash(path) -> int`` on the board); both give the same number for the same bytes. Plugins
register hashers with ``belay_register_hashers()``; `select_hasher` installs the most preferred one
the firmware supports, checks it on the board against the host side, and falls back on failure.
Core's `FNV1a32Hasher` is pure MicroPython and runs on every firmware, the micro:bit's included;
core's `Sha256Hasher` uses the firmware's C ``hashlib`` where it has one, preferred over it.

Example::

    hasher = select_hasher(device)
    board = hash_board_files(device, ["/main.py", "/lib/util.py"])  # one round trip
    same = board.get("/main.py") == host_hash_file(hasher, "main.py")
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Callable, ClassVar, Optional, Union

from belay_core.errors import BelayError, ConnectionFailedError, DeviceError, DeviceTimeoutError

if TYPE_CHECKING:
    from belay_core.device_api import DeviceApi
    from belay_core.implementation import Implementation
    from belay_core.plugins import Plugins

logger = logging.getLogger(__name__)

FNV_OFFSET = 0x811C9DC5
"""FNV-1a 32 offset basis: the hash of no bytes."""

FNV_PRIME = 0x01000193
"""FNV-1a 32 prime, ``2**24 + 403``."""

CHECK_PATH = "/.belay_hash_check"
"""Board file `select_hasher` writes the check bytes to (removed afterwards)."""

CHECK_DATA = bytes([0, 1, 0x7F, 0x80, 0xFE, 0xFF]) + b"Belay hash check\r\n" + bytes(range(0, 256, 9))
"""Known bytes every hasher must hash on the board as the host does: all byte ranges, odd length."""

WIDE_INT_ARCHES = frozenset({"x64", "rv64imc"})
"""Native architectures of 64-bit ports, whose small ints hold any 32-bit product."""

BIG_HEAP_PLATFORMS = frozenset({"linux", "darwin", "win32", "webassembly"})
"""Ports running on a host OS: heaps so large that short-lived big ints cost little."""

_BOARD_HELPERS = """\
def __belay_hc(p,d):
 f=open(p,'wb');f.write(d);f.close()
 try:return __belay_hash(p)
 finally:
  import os;os.remove(p)
def __belay_hs(ps):
 r={}
 for p in ps:
  try:r[p]=__belay_hash(p)
  except OSError:pass
 return r
"""
"""``__belay_hc``: write, hash and remove the check file; ``__belay_hs``: hash many files, skip missing."""


def fnv1a32(data: bytes, state: int = FNV_OFFSET) -> int:
    """FNV-1a 32 of ``data``, continuing from ``state`` (to hash a file block by block).

    Examples
    --------
    >>> hex(fnv1a32(b"foobar"))
    '0xbf9cf968'
    """
    h = state
    prime = FNV_PRIME
    for byte in data:
        h = ((h ^ byte) * prime) & 0xFFFFFFFF
    return h


def read_block(impl: Implementation) -> int:
    """Bytes a board-side hasher reads at a time: 128 on the micro:bit's 9 KiB heap, else 512."""
    return 128 if impl.platform == "microbit" else 512


def fnv1a32_source(impl: Implementation, decorator: str = "") -> str:
    """MicroPython source of ``__belay_hash(path)``: FNV-1a 32 of a file, tuned for ``impl``.

    Where small ints are 31-bit (32-bit ports) the hash is kept as two 16-bit halves so no byte
    allocates a big int: on a 9 KiB heap a big int per step means a garbage collection every few
    dozen bytes. On 64-bit ports and host-OS ports the plain formula is faster (measured on the
    emulated boards: 100 KiB in 6 ms instead of 22 ms on unix x64, 160 ms instead of 220 ms on wasm).

    Parameters
    ----------
    impl
        The board's firmware.
    decorator
        A decorator line for the function, e.g. ``"@micropython.native"``.
    """
    wide = impl.arch in WIDE_INT_ARCHES or impl.platform in BIG_HEAP_PLATFORMS
    size = read_block(impl)
    head = f"{decorator}\n" if decorator else ""
    if wide:
        return (
            f"{head}def __belay_hash(p):\n"
            f" f=open(p,'rb');b=bytearray({size});h=0x811c9dc5\n"
            " try:\n"
            "  while 1:\n"
            "   n=f.readinto(b)\n"
            "   if not n:return h\n"
            f"   for c in(b if n=={size} else b[:n]):h=((h^c)*16777619)&4294967295\n"
            " finally:f.close()\n"
        )
    # h*p mod 2**32 == h*403 + (h<<24): with h = H<<16|L, H' = H*403 + (L<<8) + (L*403>>16) mod 2**16.
    return (
        f"{head}def __belay_hash(p):\n"
        f" f=open(p,'rb');b=bytearray({size});H=0x811c;L=0x9dc5\n"
        " try:\n"
        "  while 1:\n"
        "   n=f.readinto(b)\n"
        "   if not n:return H<<16|L\n"
        f"   for c in(b if n=={size} else b[:n]):\n"
        "    L^=c;t=L*403;H=(H*403+(L<<8)+(t>>16))&65535;L=t&65535\n"
        " finally:f.close()\n"
    )


class Hasher:
    """Base of every hasher: the target of a `HasherRecord`.

    A subclass sets `name` and `priority` and implements `host_hash` and `board_code`; it overrides
    `supported` when it needs more than plain MicroPython, and `install` when the board side is not
    source code (a prebuilt ``.mpy``, say). Hashers are built with no arguments.

    Examples
    --------
    >>> class Sum8(Hasher):
    ...     name = "sum8"
    ...     priority = -10
    ...     def board_code(self, impl):
    ...         return "def __belay_hash(p):\\n with open(p,'rb') as f:return sum(f.read())&255\\n"
    ...     def host_hash(self, data):
    ...         return sum(data) & 255
    >>> Sum8().host_hash(b"ab")
    195
    """

    name: ClassVar[str] = ""
    """The name users and logs know it by; the record's name."""

    priority: ClassVar[int] = 0
    """Higher is preferred when several are supported."""

    def supported(self, impl: Implementation) -> Optional[str]:
        """``None`` when the board side can run on ``impl``, else why not (shown in logs)."""
        return None

    def board_code(self, impl: Implementation) -> str:
        """Source that defines ``__belay_hash(path) -> int`` in the board's globals.

        ``__belay_hash`` raises `OSError` for a file it cannot read.
        """
        raise NotImplementedError

    def host_hash(self, data: bytes) -> int:
        """The hash of ``data``, as ``__belay_hash`` gives it for a file of these bytes."""
        raise NotImplementedError

    def install(self, device: DeviceApi) -> None:
        """Define ``__belay_hash`` on the board (default: run `board_code`).

        Raises
        ------
        DeviceError
            When the board rejects the code.
        """
        device.run_statements(self.board_code(device.implementation))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class FNV1a32Hasher(Hasher):
    """FNV-1a 32 in plain MicroPython: slowest, runs everywhere (micro:bit 1.9 with its 9 KiB heap)."""

    name = "fnv1a32"
    priority = 0

    def board_code(self, impl: Implementation) -> str:
        """``__belay_hash`` reading 128-byte (micro:bit) or 512-byte blocks."""
        return fnv1a32_source(impl)

    def host_hash(self, data: bytes) -> int:
        """FNV-1a 32 of ``data``."""
        return fnv1a32(data)


SHA256_BYTES = 7
"""How much of the SHA-256 digest `Sha256Hasher` keeps: 56 bits, an int every firmware's long ints hold."""


class Sha256Hasher(Hasher):
    """SHA-256 by the firmware's own ``hashlib`` (C code), first 56 bits: fast where no native code runs.

    Most MicroPython firmware has ``hashlib.sha256`` in C; on a board without native emitters or a
    matching prebuilt ``.mpy`` (the WebAssembly port, many CircuitPython boards) it is much faster than
    FNV-1a in Python (wasm: 256 KiB in about 26 ms). A firmware without it fails the board check and the
    next hasher is used.
    """

    name = "sha256"
    priority = 5

    def board_code(self, impl: Implementation) -> str:
        """``__belay_hash`` feeding 512-byte blocks (128 on the micro:bit) to ``hashlib.sha256``."""
        size = read_block(impl)
        return (
            "import hashlib as __belay_hl\n"  # a firmware without it fails here, at install, before any file is written
            "def __belay_hash(p):\n"
            f" h=__belay_hl.sha256();f=open(p,'rb');b=bytearray({size});m=memoryview(b)\n"
            " try:\n"
            "  while 1:\n"
            "   n=f.readinto(b)\n"
            f"   if not n:return int.from_bytes(h.digest()[:{SHA256_BYTES}],'big')\n"
            "   h.update(m[:n])\n"
            " finally:f.close()\n"
        )

    def host_hash(self, data: bytes) -> int:
        """The first 56 bits of SHA-256 of ``data``, as an int."""
        import hashlib

        return int.from_bytes(hashlib.sha256(data).digest()[:SHA256_BYTES], "big")


HasherSpec = Union[str, Hasher, type]
"""A hasher given by registered name, instance or class."""


def registered_hashers(plugins: Optional[Plugins] = None) -> list[Hasher]:
    """An instance of every registered hasher, most preferred first (ties by name).

    ``plugins``: the plugin set to look in (default the process-wide one).
    """
    from belay_core.plugins import get_plugins

    plugins = get_plugins() if plugins is None else plugins
    hashers = [record.load()() for record in plugins.records("hashers").values()]
    return sorted(hashers, key=lambda h: (-h.priority, h.name))


def supported_hashers(impl: Implementation, plugins: Optional[Plugins] = None) -> list[Hasher]:
    """The registered hashers that say they can run on ``impl``, most preferred first.

    `select_hasher` still checks each on the board; this is the host-side part, e.g. for listings.
    """
    return [hasher for hasher in registered_hashers(plugins) if hasher.supported(impl) is None]


def _resolve(spec: HasherSpec, plugins: Plugins) -> Hasher:
    if isinstance(spec, Hasher):
        return spec
    if isinstance(spec, type) and issubclass(spec, Hasher):
        return spec()
    if isinstance(spec, str):
        hasher: Hasher = plugins.get("hashers", spec).load()()
        return hasher
    raise TypeError(f"not a hasher: {spec!r}")


def check_hasher(device: DeviceApi, hasher: Hasher) -> Optional[str]:
    """Install ``hasher`` on the board and check it against its host side.

    Writes `CHECK_DATA` to `CHECK_PATH`, hashes it on the board and removes it.

    Returns
    -------
    str or None
        ``None`` when it works, else why not (unsupported firmware, a board error, a wrong result).
    """
    reason = hasher.supported(device.implementation)
    if reason is not None:
        return f"unsupported: {reason}"
    path = CHECK_PATH if device.implementation.platform != "microbit" else CHECK_PATH.lstrip("/")  # flat fs
    try:
        device.defer(_BOARD_HELPERS)
        hasher.install(device)
        got = device.evaluate(f"__belay_hc({path!r},{CHECK_DATA!r})")
    except DeviceError as exc:  # the board's own "ValueError: incompatible .mpy arch" says it best
        lines = str(exc).strip().splitlines()
        return f"board error: {lines[-1] if lines else type(exc).__name__}"
    except (DeviceTimeoutError, ConnectionFailedError):
        raise  # a frozen or lost board is not this hasher's fault: no other hasher would do better
    except BelayError as exc:
        return f"{type(exc).__name__}: {exc}"
    want = hasher.host_hash(CHECK_DATA)
    if got != want:
        return f"wrong result on the board: {got!r}, host gives {want!r}"
    return None


def select_hasher(
    device: DeviceApi,
    *,
    log: Optional[Callable[[str], None]] = None,
    candidates: Optional[Sequence[HasherSpec]] = None,
) -> Hasher:
    """Install and return the most preferred hasher that works on the board.

    Tries the supported hashers by priority; each is installed and checked on the board
    (`check_hasher`). One that fails is skipped and the reason logged to the ``belay_core.hashing``
    logger and to ``log``.

    Parameters
    ----------
    device
        The board.
    log
        Also called with each message, e.g. ``print`` or a CLI's echo.
    candidates
        Hashers to try (names, classes or instances) instead of every registered one; tried in
        priority order all the same.

    Raises
    ------
    BelayError
        When no hasher works.
    """
    hashers = (
        registered_hashers(device.plugins) if candidates is None else [_resolve(c, device.plugins) for c in candidates]
    )
    hashers.sort(key=lambda h: (-h.priority, h.name))

    def say(message: str, level: int = logging.INFO) -> None:
        logger.log(level, message)
        if log is not None:
            log(message)

    reasons = []
    for hasher in hashers:
        reason = check_hasher(device, hasher)
        if reason is None:
            say(f"hasher {hasher.name!r} chosen", logging.DEBUG)
            return hasher
        reasons.append(f"{hasher.name}: {reason}")
        say(f"hasher {hasher.name!r} skipped: {reason}")
    raise BelayError("no hasher works on this board: " + ("; ".join(reasons) or "none registered"))


def hash_board_files(device: DeviceApi, paths: Iterable[str]) -> dict[str, int]:
    """Hash many board files in one round trip with the hasher `select_hasher` installed.

    Parameters
    ----------
    paths
        Board paths.

    Returns
    -------
    dict[str, int]
        Hash per path; paths that are missing or unreadable are left out.
    """
    paths = list(paths)
    if not paths:
        return {}
    hashes: dict[str, int] = device.evaluate(f"__belay_hs({paths!r})")
    return hashes


def host_hash_file(hasher: Hasher, path: Union[str, Path]) -> int:
    """``hasher``'s hash of a host file."""
    return hasher.host_hash(Path(path).read_bytes())
