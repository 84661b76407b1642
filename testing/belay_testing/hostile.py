"""A hostile board: a real MicroPython whose answers to Belay are crafted, over a correct raw REPL.

Belay's board-side helpers reach the filesystem through ``__import__('os')``, which MicroPython
answers from ``sys.modules`` first. `lie_about_listings` puts a stand-in ``os`` there: everything is
the real module's except the directory listings, which name what the test says. The board then
speaks the protocol perfectly and lies in its content, as a compromised or buggy firmware would.
"""

from __future__ import annotations

from typing import Any

_LYING_OS = """\
import sys
__belay_real_os = __import__('os')
class __belay_LyingOs:
    pass
__belay_lying = __belay_LyingOs()
for __belay_n in dir(__belay_real_os):
    if not __belay_n.startswith('__'):
        setattr(__belay_lying, __belay_n, getattr(__belay_real_os, __belay_n))
def __belay_ilistdir(p='.'):
    return iter(__belay_entries.get(p.rstrip('/') or '/', []))
def __belay_listdir(p='.'):
    return [e[0] for e in __belay_ilistdir(p)]
__belay_lying.ilistdir = __belay_ilistdir
__belay_lying.listdir = __belay_listdir
sys.modules['os'] = __belay_lying
"""


def lie_about_listings(device: Any, listings: dict[str, list[tuple[str, int, int, int]]]) -> None:
    """Make the board list ``listings[folder]`` (``ilistdir`` tuples: name, type, inode, size) for each folder.

    Folders not in ``listings`` list as empty; ``stat`` and ``open`` stay real. Undo with `tell_the_truth`.
    """
    device(f"__belay_entries = {listings!r}")
    device(_LYING_OS)


def tell_the_truth(device: Any) -> None:
    """Put the real ``os`` back in ``sys.modules``."""
    device("import sys\nsys.modules['os'] = __belay_real_os")


def answer_results_with(device: Any, payload: str, kind: str = "R") -> None:
    """Make every later result frame of the board carry ``payload`` (of ``kind``), whatever the value.

    ``payload`` is a board expression, evaluated at each call (``"'-' * 5000 + '1'"``), so a large one
    need not be sent. Belay's board-side ``__belay_r`` is replaced by one that prints the crafted
    frame; `Device.soft_reset` restores the real one.
    """
    device(f"__belay_r = lambda v, p=0, c=0: __belay_f({kind!r}, {payload})")


def damage_results(device: Any, damage: str) -> None:
    """Make the board's result frames arrive damaged, as a noisy line would deliver them.

    ``damage`` is a board expression of ``s``, the payload, giving what goes out instead
    (``"s[:1] + s[2:]"`` drops a byte, ``"s.replace('2', '3', 1)"`` flips one); the frame's length
    and sum still describe the payload as it was. `Device.soft_reset` restores the real frames.
    """
    device(
        "def __belay_f(k, s, c=''):\n"
        f"    __belay_bp('%s%s%d%s%d%s:%s\\n' % (__belay_m, k, len(s), __belay_bj, __belay_bk(s), c, {damage}),"
        " end='')"
    )
