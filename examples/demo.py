"""Belay's demo: drive a real MicroPython (an emulated board) from host Python.

Run it with ``hatch run demo`` (or ``python examples/demo.py SPEC`` for another board, e.g.
``emu:wasm``, ``emu:microbit`` or ``/dev/ttyACM0`` with belay-serial installed).
"""

from __future__ import annotations

import sys

from belay_core import Device, DeviceError

spec = sys.argv[1] if len(sys.argv) > 1 else "emu:"

with Device(spec) as device:
    impl = device.implementation
    print(f"Connected to {impl.name} {'.'.join(map(str, impl.version))} on {impl.platform!r}", end="")
    print(f" (arch {impl.arch or '-'}, emitters {', '.join(impl.emitters) or '-'})")

    # Expressions come back as Python values.
    print("1 + 1 on the board =", device("1 + 1"))
    print("sys.platform =", device("sys.platform"))

    # State lives on the board between calls.
    device("squares = [i * i for i in range(10)]")
    print("sum of squares =", device("sum(squares)"))

    # The board's prints are streamed to the host as they happen.
    device("for i in range(3):\n    print('counting on the board:', i)\n    time.sleep(0.2)")

    # Exceptions raised on the board come back with the board's traceback.
    try:
        device("int('not a number')")
    except DeviceError as exc:
        print("The board raised:", exc.traceback.splitlines()[-1])
