"""A script written for the original belay runs unchanged after ``import belay_core as belay``."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

ORIGINAL_STYLE = """
import belay_core as belay

device = belay.Device(SPEC)


@device.setup
def setup(pin_number=25):
    counter = 0


@device.task
def increment(amount=1):
    global counter
    counter += amount
    return counter


@device.task
def squares(n):
    for i in range(n):
        yield i * i


@device.teardown
def teardown():
    print("bye", counter)


setup()
print("inc", increment(), increment(5))
print("squares", list(squares(4)))
print("eval", device("counter * 2"))
try:
    device("1/0")
except belay.PyboardException as exc:
    print("error", type(exc).__name__, isinstance(exc, belay.BelayException))


class MyDevice(belay.Device):
    @belay.Device.setup(autoinit=True)
    def setup(start=100):
        total = start

    @belay.Device.task
    def add(x):
        global total
        total += x
        return total


with MyDevice(SPEC) as mine:
    print("subclass", mine.add(5))
device.close()
"""


@pytest.mark.parametrize("spec", ["emu:unix", "emu:wasm", "emu:microbit"])
def test_original_style_script_runs_unchanged(tmp_path, spec):
    script = tmp_path / "app.py"
    script.write_text(f"SPEC = {spec!r}\n" + textwrap.dedent(ORIGINAL_STYLE))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "inc 1 6",
        "squares [0, 1, 4, 9]",
        "eval 12",
        "error DeviceZeroDivisionError True",
        "subclass 105",
        "bye 6",
    ]
