"""FNV-1a 32 hashers faster than core's: native code, viper code, and viper code prebuilt as ``.mpy``.

All give core's `belay_core.hashing.fnv1a32` numbers, so any of them compares with any host file.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING, Optional

from belay_core.hashing import FNV1a32Hasher, fnv1a32_source

if TYPE_CHECKING:
    from belay_core.device import Device, Implementation

MODULE = "_belay_fnv1a32"
"""Name the prebuilt module is imported by on the board (its file is removed once imported)."""

VIPER_SOURCE = """\
@micropython.viper
def __belay_hash(p)->uint:
 f=open(p,'rb')
 b=bytearray(512)
 q=ptr8(b)
 m=16777619
 h=0x811c
 h=(h<<16)|0x9dc5
 k=0xffff
 k=(k<<16)|0xffff
 try:
  while True:
   n=int(f.readinto(b))
   if n==0:
    break
   i=0
   while i<n:
    h=(h^q[i])*m
    i+=1
 finally:
  f.close()
 return uint(h&k)
"""
"""The viper hasher, source of the ``.mpy`` files too (``scripts/build_mpy.py``).

Machine-word ``int`` arithmetic wraps by itself with the low 32 bits of FNV's (XOR and multiply do not
care about sign), so on 64-bit ports one mask at the end suffices; on 32-bit ports the mask is ``-1``.
Constants above 2**30 are built from halves at run time: such a literal would be a big-int object, not
a machine word, on 32-bit ports. Only ``int`` operations: viper before v1.19 lacks some on ``uint``.
"""


def mpy_dir(impl: Implementation) -> Optional[str]:
    """``"6.3"``: the folder of prebuilt files for ``impl``'s ``.mpy`` version, or ``None``."""
    if impl.mpy_version is None:
        return None
    return f"{impl.mpy_version}.{impl.mpy_sub_version or 0}"


def prebuilt(impl: Implementation) -> Optional[bytes]:
    """The prebuilt ``.mpy`` for ``impl``'s ``.mpy`` version and architecture, if one was built."""
    folder = mpy_dir(impl)
    if folder is None or impl.arch is None:
        return None
    path = resources.files("belay_hashers") / "mpy" / folder / f"{impl.arch}.mpy"  # one part per / for 3.9
    return path.read_bytes() if path.is_file() else None


class NativeFNV1a32Hasher(FNV1a32Hasher):
    """Core's FNV-1a 32 compiled by the native emitter: 1.5-3x faster than plain bytecode."""

    name = "native-fnv1a32"
    priority = 10

    def supported(self, impl: Implementation) -> Optional[str]:
        """Needs the native emitter."""
        return None if "native" in impl.emitters else "the firmware has no native emitter"

    def board_code(self, impl: Implementation) -> str:
        """Core's board code under ``@micropython.native``."""
        return fnv1a32_source(impl, "@micropython.native")


class ViperFNV1a32Hasher(FNV1a32Hasher):
    """FNV-1a 32 in viper code: machine-word arithmetic over a pointer into the read buffer."""

    name = "viper-fnv1a32"
    priority = 20

    def supported(self, impl: Implementation) -> Optional[str]:
        """Needs the viper emitter."""
        return None if "viper" in impl.emitters else "the firmware has no viper emitter"

    def board_code(self, impl: Implementation) -> str:
        """`VIPER_SOURCE`."""
        return VIPER_SOURCE


class MpyFNV1a32Hasher(FNV1a32Hasher):
    """The viper hasher prebuilt by ``mpy-cross`` for each ``.mpy`` version and architecture.

    Needs neither emitter nor compiler on the board, only a firmware that loads native ``.mpy`` code
    of its architecture; the board does not compile anything, so it saves heap too.
    """

    name = "mpy-fnv1a32"
    priority = 30

    def supported(self, impl: Implementation) -> Optional[str]:
        """Needs MicroPython (CircuitPython's ``.mpy`` format differs) and a prebuilt file for its version and arch."""
        if impl.name != "micropython":
            return f"prebuilt files are MicroPython's .mpy format, not {impl.name}'s"
        if impl.arch is None or impl.mpy_version is None:
            return "the firmware does not say which .mpy version and architecture it loads"
        if prebuilt(impl) is None:
            return f"no prebuilt .mpy for mpy {mpy_dir(impl)} on {impl.arch}"
        return None

    def board_code(self, impl: Implementation) -> str:
        """Import ``__belay_hash`` from the module `install` wrote."""
        return f"from {MODULE} import __belay_hash"

    def mpy_bytes(self, impl: Implementation) -> bytes:
        """The ``.mpy`` file `install` writes (a subclass may give another)."""
        data = prebuilt(impl)
        if data is None:
            raise FileNotFoundError(f"no prebuilt .mpy for mpy {mpy_dir(impl)} on {impl.arch}")
        return data

    def install(self, device: Device) -> None:
        """Write the ``.mpy`` beside ``main.py``, import it, and remove the file: one round trip."""
        impl = device.implementation
        data = self.mpy_bytes(impl)
        name = f"{MODULE}.mpy"
        device.run_statements(
            "import sys,os\n"
            f"sys.modules.pop({MODULE!r},None)\n"
            f"f=open({name!r},'wb');f.write({data!r});f.close();del f\n"
            f"try:{self.board_code(impl)}\n"
            f"finally:os.remove({name!r})\n"
        )
