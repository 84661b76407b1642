"""``belay devices``, ``belay select``, ``belay terminal``, and what ``belay --help``/``plugins`` show."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

from click.testing import CliRunner

from belay_core.cli import cli
from belay_serial.usb import UsbSpecifier


def _pico(fake_port, port="/dev/ttyACM0", serial_number="E6614C311B", location="1-1.4:1.0"):
    return fake_port(
        port,
        0x2E8A,
        0x0005,
        serial_number=serial_number,
        manufacturer="MicroPython",
        product="Board in FS mode",
        location=location,
    )


def test_devices_table_shows_every_column(usb_ports, fake_port):
    usb_ports(_pico(fake_port), fake_port("/dev/ttyUSB0", 0x1234, 0xABCD, product="Gadget"), fake_port("/dev/ttyS0"))
    result = CliRunner().invoke(cli, ["devices"])
    assert result.exit_code == 0, result.output
    for text in ("/dev/ttyACM0", "2e8a:0005", "E6614C311B", "MicroPython", "Board in FS mode", "1-1.4:1.0"):
        assert text in result.output
    assert "* Raspberry Pi" in result.output  # a known board vendor
    assert "1234:abcd" in result.output and "/dev/ttyS0" not in result.output


def test_devices_all_includes_ports_that_are_not_usb(usb_ports, fake_port):
    usb_ports(fake_port("/dev/ttyS0"))
    result = CliRunner().invoke(cli, ["devices", "--all"])
    assert result.exit_code == 0 and "/dev/ttyS0" in result.output


def test_devices_json(usb_ports, fake_port):
    usb_ports(_pico(fake_port))
    result = CliRunner().invoke(cli, ["devices", "--json"])
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.stdout)
    assert entry["port"] == "/dev/ttyACM0"
    assert entry["vid"] == "0x2e8a" and entry["pid"] == "0x0005"
    assert entry["serial_number"] == "E6614C311B" and entry["location"] == "1-1.4:1.0"
    assert entry["known_vendor"] is True


def test_devices_with_none_attached(usb_ports):
    result = CliRunner().invoke(cli, ["devices"])
    assert result.exit_code == 0
    assert "No USB serial ports found" in result.output


def test_select_with_one_board_needs_no_answer(usb_ports, fake_port):
    usb_ports(_pico(fake_port))
    result = CliRunner().invoke(cli, ["select"])
    assert result.exit_code == 0, result.output
    line = result.stdout.strip()
    assert line == "export BELAY_DEVICE=" + shlex.quote('{"vid": "0x2e8a", "pid": "0x0005"}')
    value = shlex.split(line.split("=", 1)[1])[0]
    assert UsbSpecifier.parse(value).to_port() == "/dev/ttyACM0"


def test_select_asks_among_several(usb_ports, fake_port):
    usb_ports(
        _pico(fake_port, "/dev/ttyACM0", "AAA", "1-1"),
        _pico(fake_port, "/dev/ttyACM1", "BBB", "1-2"),
        fake_port("/dev/ttyUSB0", 0x10C4, 0xEA60, manufacturer="Silicon Labs"),
    )
    result = CliRunner().invoke(cli, ["select"], input="2\n")
    assert result.exit_code == 0, result.output
    assert "1. /dev/ttyACM0" in result.output and "3. /dev/ttyUSB0" in result.output
    value = shlex.split(result.stdout.strip().split("=", 1)[1])[0]
    assert json.loads(value) == {"vid": "0x2e8a", "pid": "0x0005", "serial_number": "BBB"}
    assert UsbSpecifier.parse(value).to_port() == "/dev/ttyACM1"


def test_select_rejects_an_out_of_range_answer_then_accepts(usb_ports, fake_port):
    usb_ports(_pico(fake_port, "/dev/ttyACM0", "AAA"), _pico(fake_port, "/dev/ttyACM1", "BBB"))
    result = CliRunner().invoke(cli, ["select", "--port", "--shell", "fish"], input="9\n1\n")
    assert result.exit_code == 0, result.output
    assert "9 is not in the range" in result.output
    assert result.stdout.strip().endswith("set -gx BELAY_DEVICE /dev/ttyACM0")


def test_select_with_no_board_fails_clearly(usb_ports, fake_port):
    usb_ports(fake_port("/dev/ttyS0"))
    result = CliRunner().invoke(cli, ["select"])
    assert result.exit_code != 0
    assert "no USB serial board is attached" in result.output


def _terminal(spec: str, data: bytes) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "belay_core.cli", "terminal", "-d", spec, "--drain", "3"],
        input=data,
        capture_output=True,
        timeout=60,
    )


def test_terminal_relays_an_emulated_board_until_eof():
    result = _terminal("emu:unix", b"print(6*7)\r")
    assert result.returncode == 0, result.stderr
    assert b"42\r\n" in result.stdout
    assert b"Ctrl-] exits" in result.stderr


def test_terminal_over_a_serial_port_stops_at_ctrl_bracket(pty_board):
    board = pty_board("unix")
    result = _terminal(board.path, b"print(6*7)\r\x1dprint('never sent')\r")
    assert result.returncode == 0, result.stderr
    assert b"42\r\n" in result.stdout
    assert b"never sent" not in result.stdout


def test_terminal_reports_a_lost_board(pty_board):
    board = pty_board("unix")
    process = subprocess.Popen(
        [sys.executable, "-m", "belay_core.cli", "terminal", "-d", board.path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        assert b"Ctrl-] exits" in process.stderr.readline()  # connected
        board.unplug()
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 2
    assert b"is gone" in err


def test_terminal_with_unknown_spec_is_a_clean_error():
    result = _terminal("nosuch://board", b"")
    assert result.returncode == 2
    assert b"no installed transport handles" in result.stderr


def test_belay_help_imports_neither_pyserial_nor_the_implementation():
    code = (
        "import sys\nfrom belay_core.cli import main\nmain(['--help'])\nprint('\\n' + ' '.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(result.stdout.strip().splitlines()[-1].split())
    assert "belay_serial.hooks" in loaded  # the plugin is loaded ...
    assert "serial" not in loaded  # ... but not pyserial
    assert not {"belay_serial.usb", "belay_serial.transport", "belay_serial.commands"} & loaded
    for name in ("devices", "select", "terminal"):
        assert name in result.stdout


def test_belay_plugins_lists_serial():
    env = {**os.environ, "BELAY_STRICT_PLUGINS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "belay_core.cli", "plugins", "--json"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    [serial] = [p for p in json.loads(result.stdout) if p["name"] == "serial"]
    assert serial["distribution"] == "belay-serial" and serial["status"] == "ok"
    assert serial["provides"] == {
        "transports": ["serial"],
        "exports": ["UsbSpecifier", "list_devices"],
        "commands": ["devices", "select"],
    }


def test_terminal_at_a_real_terminal_uses_raw_mode_and_restores_it():
    import select
    import termios
    import time

    master, slave = os.openpty()
    before = termios.tcgetattr(slave)
    process = subprocess.Popen(
        [sys.executable, "-m", "belay_core.cli", "terminal", "-d", "emu:unix"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    seen = b""

    def read_until(marker: bytes, timeout: float = 30) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while marker not in seen and time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                seen += os.read(master, 4096)
        assert marker in seen, seen

    try:
        read_until(b">>> ")
        assert not termios.tcgetattr(slave)[3] & termios.ECHO  # raw: the board echoes, not the terminal
        os.write(master, b"print(6*7)\r")
        read_until(b"42\r\n")
        os.write(master, b"\x1d")  # Ctrl-] exits
        assert process.wait(30) == 0
        assert termios.tcgetattr(slave) == before
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
        os.close(slave)
