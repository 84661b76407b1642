"""``Device.mount`` and ``belay mount``: a host folder as a board directory, on real firmware and lines."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from belay_core import Device
from belay_core.cli import cli
from belay_core.errors import DeviceError, FeatureUnavailableError


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A host project: main.py importing a package, a text file, a binary file with every byte value."""
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "main.py").write_text("import pkg.util\nprint('main says', pkg.util.double(21))\n")
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "util.py").write_text("def double(x):\n    return 2 * x\n")
    (root / "data.txt").write_text("line 1\nline 2\n")
    (root / "all.bin").write_bytes(bytes(range(256)) * 64)
    return root


def test_the_board_imports_reads_and_writes_a_mounted_folder(tree_board, folder: Path, capsys):
    with Device(tree_board) as device, device.mount(folder):
        assert device("__import__('os').getcwd()") == "/remote"
        assert sorted(device("__import__('os').listdir()")) == ["all.bin", "data.txt", "main.py", "pkg"]
        device("import main")
        assert "main says 42" in capsys.readouterr().out
        assert device("open('data.txt').read()") == "line 1\nline 2\n"
        assert device("[line for line in open('data.txt')]") == ["line 1\n", "line 2\n"]
        device("f = open('made.txt', 'w'); f.write('on the board'); f.close()")
        device("import os; os.mkdir('out'); os.rename('made.txt', 'out/made.txt')")
        assert device("os.stat('out/made.txt')[6]") == 12
    assert (folder / "out" / "made.txt").read_text() == "on the board"


def test_every_byte_crosses_a_serial_line_both_ways(pty_board, folder: Path):
    # A pseudo-terminal line: replies carry Ctrl-C, Ctrl-D and XON/XOFF bytes the board must take as data.
    content = (folder / "all.bin").read_bytes()
    with Device(pty_board("unix").path) as device, device.mount(folder):
        device("import hashlib, binascii")
        digest = device("binascii.hexlify(hashlib.sha256(open('all.bin', 'rb').read()).digest()).decode()")
        assert digest == hashlib.sha256(content).hexdigest()
        device("open('copy.bin', 'wb').write(open('all.bin', 'rb').read())")
        assert device("1 + 1") == 2
    assert (folder / "copy.bin").read_bytes() == content


def test_a_read_only_mount_refuses_changes(folder: Path):
    with Device("emu:unix") as device, device.mount(folder, readonly=True):
        with pytest.raises(DeviceError, match="OSError: 30"):
            device("open('new.txt', 'w')")
        assert device("open('data.txt').read()") == "line 1\nline 2\n"
    assert not (folder / "new.txt").exists()


def test_the_board_cannot_leave_the_mounted_folder(folder: Path):
    (folder.parent / "secret.txt").write_text("not for the board")
    with Device("emu:unix") as device, device.mount(folder):
        for path in ("../secret.txt", "/remote/../secret.txt", "pkg/../../secret.txt"):
            with pytest.raises(DeviceError, match="OSError"):
                device(f"open({path!r}).read()")


def test_unmount_takes_it_away_and_a_soft_reset_keeps_it(folder: Path):
    with Device("emu:unix") as device:
        mounted = device.mount(folder, "/host")
        device.soft_reset()
        assert "main.py" in device("__import__('os').listdir('/host')")
        mounted.unmount()
        assert device("__import__('os').getcwd()") == "/"
        with pytest.raises(DeviceError, match="OSError"):
            device("__import__('os').listdir('/host')")


def test_the_micro_bit_cannot_mount(folder: Path):
    with Device("emu:microbit") as device:
        with pytest.raises(FeatureUnavailableError, match="cannot mount a host folder"):
            device.mount(folder)
        assert device("1 + 1") == 2


def test_belay_mount_in_a_chain_serves_the_commands_after_it(folder: Path):
    result = CliRunner().invoke(cli, ["-d", "emu:", "mount", str(folder), "+", "run", str(folder / "main.py")])
    assert result.exit_code == 0, result.output
    assert "main says 42" in result.stdout
    assert f"Mounted {folder} at /remote." in result.stderr


def test_belay_mount_alone_opens_the_repl_with_the_folder_served(folder: Path):
    # As mpremote's mount: the REPL, where imports and open() reach the host folder; Ctrl-] exits.
    import os
    import select
    import subprocess
    import sys
    import time

    master, slave = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "belay_core.cli", "-d", "emu:unix", "mount", str(folder)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""

    def until(marker: bytes) -> None:
        nonlocal seen
        deadline = time.monotonic() + 60
        while marker not in seen and time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                seen += os.read(master, 4096)
        assert marker in seen, seen

    try:
        until(b">>> ")
        os.write(master, b"import main\r")
        until(b"main says 42")
        until(b">>> ")
        os.write(master, b"print(open('data.txt').read().split())\r")
        until(b"['line', '1', 'line', '2']")
        os.write(master, b"\x1d")
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    assert b"\x02" not in seen  # the requests were answered, not shown


def test_requests_cut_into_single_bytes_are_answered_and_the_rest_shown_unchanged():
    from belay_core.frames import RequestScanner

    answered = []
    scan = RequestScanner(b"tok", lambda frame: answered.append(frame.payload))
    stream = b"before \x02tokQ3;%d:abc\r\nafter \x02not a frame \x02to" % __import__("zlib").crc32(b"abc")
    shown = b"".join(scan(bytes((byte,))) for byte in stream)
    assert answered == ["abc"]
    assert shown == b"before after \x02not a frame "  # a possible mark at the end is held
    assert scan(b"x") == b"\x02tox"
