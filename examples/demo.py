"""Belay's demo: drive a real MicroPython (an emulated board) from host Python.

Run it with ``hatch run demo`` (or ``python examples/demo.py SPEC`` for another board, e.g.
``emu:wasm``, ``emu:microbit`` or ``/dev/ttyACM0`` with belay-serial installed).
"""

from __future__ import annotations

import sys
from pathlib import Path

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

    # A task: a host function defined on the board; calling it runs it there.
    @device.task
    def add(a, b):
        return a + b

    print("add(2, 3) on the board =", add(2, 3))

    # A generator task streams its values one by one.
    @device.task
    def countdown(n):
        while n > 0:
            yield n
            n -= 1

    print("countdown:", list(countdown(5)))

    # A proxy stands in for a board object: attributes, items and calls run on the board.
    device(
        "class Counter:\n    def __init__(self):\n        self.hits = []\n    def hit(self, n):\n"
        "        self.hits.append(n)\n        return len(self.hits)\ncounter = Counter()"
    )
    counter = device.proxy("counter")
    counter.hit(7)
    print("proxy: counter.hit(8) =", counter.hit(8), "and counter.hits =", counter.hits[:])

    # Sync a folder to the board (only what changed is sent), then import from it there.
    plan = device.sync(Path(__file__).parent / "app", dst="/app")
    print(f"synced {len(plan.upload)} file(s) to /app with the {plan.hasher} hasher")
    device("import sys\nsys.path.append('/app')")
    print(device("__import__('greeting').greet('demo')"))

    # Exceptions keep their class, and the traceback points at this file.
    @device.task
    def parse(text):
        return int(text)

    try:
        parse("not a number")
    except ValueError as exc:
        assert isinstance(exc, DeviceError)
        print("The board raised:")
        print(exc)
