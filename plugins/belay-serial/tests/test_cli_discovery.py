"""Board commands with no -d and no BELAY_DEVICE use the one attached board, and say which."""

from __future__ import annotations

from click.testing import CliRunner

from belay_core.cli import cli


def test_a_command_with_no_device_uses_the_one_attached_board(usb_ports, fake_port, pty_board, monkeypatch):
    monkeypatch.delenv("BELAY_DEVICE", raising=False)
    board = pty_board("unix")
    usb_ports(fake_port(board.path, 0x2E8A, 0x0005), fake_port("/dev/ttyS0"))
    result = CliRunner().invoke(cli, ["exec", "40 + 2"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "42"
    assert f"Using {board.path}, the one board attached." in result.stderr


def test_a_command_with_no_device_and_several_boards_lists_them(usb_ports, fake_port, monkeypatch):
    monkeypatch.delenv("BELAY_DEVICE", raising=False)
    usb_ports(fake_port("/dev/ttyACM0", 0x2E8A, 0x0005), fake_port("/dev/ttyUSB0", 0x1A86, 0x7523))
    result = CliRunner().invoke(cli, ["fs", "ls"])
    assert result.exit_code == 2
    assert "2 boards attached" in result.output
    assert "\n  /dev/ttyACM0\n  /dev/ttyUSB0" in result.output


def test_a_command_with_no_device_and_no_board_says_how_to_name_one(usb_ports, monkeypatch):
    monkeypatch.delenv("BELAY_DEVICE", raising=False)
    result = CliRunner().invoke(cli, ["info"])
    assert result.exit_code == 2
    assert "no board given and none found attached: give -d/--device SPEC" in result.output
