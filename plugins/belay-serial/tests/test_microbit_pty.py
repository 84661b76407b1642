"""The micro:bit firmware on qemu's own ``-serial pty``: classic raw-REPL input paced by Belay alone.

The firmware (MicroPython 1.9.2) has no raw-paste, and its UART receive buffer holds 63 bytes: what
arrives while the interpreter is busy and the buffer is full is dropped. No relay of ours sits on this
line, so only the engine's pacing (`belay_core.repl.CLASSIC_PACING`) keeps code whole. Each test moves
several KB of classic raw-REPL input, right after a soft reset too (the firmware is busiest then):
with pacing switched off they fail (a ``SyntaxError`` in start-up code, a garbled value, a timeout).
"""

from __future__ import annotations

import importlib.util
import random

import pytest

from belay_core import Device, DeviceError

CONNECTS = 6
"""Connections in a row (each soft-resets the board and sends 1.6 KB of start-up code)."""


def _connect(path: str) -> Device:
    return Device(path, timeout=60)


def _long_task_module(tmp_path, steps: int):
    """A module whose one function has a long, commented body (kept whole with ``minify=False``)."""
    lines = ["def long_sum(n):"]
    for i in range(steps):
        lines.append(f"    # step {i:03d}: add {i} to the running total (a comment the board's lexer skips)")
        lines.append(f"    n += {i}")
    lines.append("    return n")
    path = tmp_path / "long_task.py"
    path.write_text("\n".join(lines) + "\n")
    spec = importlib.util.spec_from_file_location("long_task", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, len(path.read_text())


def test_connects_and_calls(microbit_pty):
    for attempt in range(CONNECTS):
        with _connect(microbit_pty) as device:
            assert device.implementation.platform == "microbit"
            assert device.implementation.version[:2] == (1, 9)
            assert device(f"{attempt} * 7 + len('paced')") == attempt * 7 + 5


def test_long_task_and_long_statements(microbit_pty, tmp_path):
    # About 2 KB each: the firmware keeps a raw-REPL line in its heap (about 2.7 KB free once connected)
    # and hangs when the line outgrows it, so longer code is several calls, as here.
    module, size = _long_task_module(tmp_path, 22)
    assert size > 2000
    with _connect(microbit_pty) as device:
        long_sum = device.task(minify=False)(module.long_sum)
        for round_ in range(3):
            assert long_sum(1000 * round_) == 1000 * round_ + sum(range(22))
            statement = "total = 0\n" + "".join(
                f"total += {i * round_}  # {'long statement padding ' * 2}{i:03d}\n" for i in range(36)
            )
            assert len(statement) > 2000
            device(statement, minify=False)
            assert device("total") == round_ * sum(range(36))
            device.soft_reset()  # the helpers and the long task go again at once, while the firmware is busiest


def test_sync_of_a_folder_at_the_root(microbit_pty, tmp_path):
    folder = tmp_path / "app"
    folder.mkdir()
    files = {}
    for name in ("alpha", "beta", "gamma", "delta"):
        text = f"NAME = {name!r}\n" + "".join(f"{name.upper()}_{i} = {i}  # value {i} of {name}\n" for i in range(16))
        (folder / f"{name}.py").write_text(text)
        files[f"{name}.py"] = text.encode()
    (folder / "notes.txt").write_bytes(b"line of notes\n" * 30)
    files["notes.txt"] = b"line of notes\n" * 30
    with _connect(microbit_pty) as device:
        plan = device.sync(folder, minify=False)
        assert sorted(plan.upload) == sorted(f"/{name}" for name in files)
        for name, data in files.items():
            assert device.read_bytes(f"/{name}") == data
        assert device("__import__('gamma').GAMMA_15") == 15
        assert device.sync(folder, minify=False).upload == []


def test_put_and_get_of_a_few_kb(microbit_pty, tmp_path):
    data = random.Random(7).getrandbits(8 * 3000).to_bytes(3000, "little")
    text = "".join(f"{i:04d} the quick brown fox jumps over the lazy dog\n" for i in range(40))
    (tmp_path / "blob.bin").write_bytes(data)
    (tmp_path / "story.txt").write_text(text)
    with _connect(microbit_pty) as device:
        assert device.put(tmp_path / "blob.bin", "blob.bin") == ["blob.bin"]
        assert device.put(tmp_path / "story.txt", "story.txt") == ["story.txt"]
        back = tmp_path / "back"
        back.mkdir()
        device.get("blob.bin", back / "blob.bin")
        device.get("story.txt", back / "story.txt")
        assert (back / "blob.bin").read_bytes() == data
        assert (back / "story.txt").read_text() == text
        assert device.size("blob.bin") == 3000


def test_soft_reset_and_what_is_replayed(microbit_pty):
    with _connect(microbit_pty) as device:

        @device.task
        def triple(x):
            return 3 * x

        for i in range(3):
            device(f"marker = {i}")
            device.soft_reset()  # the helpers go again at once, while the firmware is busiest
            with pytest.raises(DeviceError, match="NameError"):
                device("marker")
            assert triple(i + 1) == 3 * (i + 1)
