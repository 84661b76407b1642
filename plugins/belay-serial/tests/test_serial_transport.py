"""The serial transport on real tty devices: emulated boards behind pseudo-terminals."""

from __future__ import annotations

import pytest
import serial

from belay_core import ConnectionLost, Device, DeviceError, DeviceSpecError
from belay_serial import PortBusyError, PortNotFoundError, SerialTransport


def test_device_on_a_pty_connects_and_evaluates(pty_board):
    board = pty_board("unix")
    with Device(board.path, timeout=30) as device:
        assert device("1 + 2") == 3
        assert device.implementation.name == "micropython"


def test_tasks_and_board_errors_over_the_line(pty_board):
    board = pty_board("unix")
    with Device(board.path, timeout=30) as device:

        @device.task
        def double(x):
            return 2 * x

        assert double(21) == 42
        assert double("ab") == "abab"
        with pytest.raises(DeviceError, match="ZeroDivisionError"):
            device("1 / 0")
        assert device("6 * 7") == 42  # still usable after the error


def test_microbit_firmware_on_a_pty(pty_board):
    from belay_emulator.boards import microbit

    reason = microbit.unavailable()
    if reason is not None:
        pytest.fail(f"the micro:bit board cannot run here: {reason}")
    board = pty_board("microbit")
    with Device(board.path, timeout=60) as device:
        assert device.implementation.platform == "microbit"

        @device.task
        def add(a, b):
            return a + b

        assert add(40, 2) == 42


def test_unplugged_board_is_connection_lost_and_a_fresh_board_works(pty_board):
    board = pty_board("unix")
    device = Device(board.path, timeout=30)
    try:
        assert device("1") == 1
        board.unplug()
        with pytest.raises(ConnectionLost, match="is gone"):
            device("2")
    finally:
        device.close()
    fresh = pty_board("unix")
    with Device(fresh.path, timeout=30) as device:
        assert device("3") == 3


def test_transport_read_after_hangup_raises(pty_board):
    board = pty_board("unix")
    transport = SerialTransport(board.path)
    transport.open()
    try:
        board.unplug()
        with pytest.raises(ConnectionLost, match=board.path):
            while True:  # the banner may still be buffered: read until the hang-up shows
                transport.read(4096, 5)
    finally:
        transport.close()
        transport.close()  # twice is harmless


def test_read_timeout_returns_empty_bytes(pty_board):
    board = pty_board("unix")
    transport = SerialTransport(board.path)
    transport.open()
    try:
        while transport.read(4096, 1.0):  # let the banner pass
            pass
        assert transport.read(10, 0.05) == b""
        transport.write(b"\r")
        assert transport.read(4096, 5)  # the board answers a prompt
    finally:
        transport.close()


def test_missing_port_names_it_and_lists_attached_boards(usb_ports, fake_port):
    usb_ports(fake_port("/dev/ttyACM7", 0x2E8A, 0x0005, product="Board in FS mode"))
    with pytest.raises(PortNotFoundError) as caught:
        Device("/dev/ttyNOSUCHPORT")
    message = str(caught.value)
    assert "/dev/ttyNOSUCHPORT not found" in message
    assert "/dev/ttyACM7" in message and "2e8a:0005" in message
    assert isinstance(caught.value, ConnectionLost)


def test_busy_port_says_another_program_has_it(pty_board):
    board = pty_board("unix")
    holder = serial.Serial(board.path, exclusive=True)
    try:
        with pytest.raises(PortBusyError, match="busy: another program has it open"):
            Device(board.path)
    finally:
        holder.close()
    with Device(board.path, timeout=30) as device:  # free again
        assert device("5") == 5


def test_device_holds_the_port_exclusively(pty_board):
    board = pty_board("unix")
    with Device(board.path, timeout=30) as device:
        with pytest.raises(serial.SerialException, match="exclusively lock"):
            serial.Serial(board.path, exclusive=True)
        with pytest.raises(PortBusyError):
            Device(board.path)
        assert device("1") == 1


def test_baudrate_option_is_accepted(pty_board):
    board = pty_board("unix")
    with Device(board.path, timeout=30, baudrate=9600) as device:
        assert device("7") == 7
        assert device.session.transport.serial.baudrate == 9600


def test_unknown_option_is_rejected():
    with pytest.raises(DeviceSpecError, match=r"unknown option parity \(known: baudrate, exclusive, dtr, rts\)"):
        Device("/dev/ttyACM0", parity="E")


def test_invalid_baudrate_is_rejected():
    with pytest.raises(DeviceSpecError, match="option baudrate"):
        SerialTransport("/dev/ttyACM0", baudrate=0)


def test_usb_specifier_spec_resolves_to_the_port(pty_board, usb_ports, fake_port):
    board = pty_board("unix")
    usb_ports(
        fake_port(board.path, 0x2E8A, 0x0005, serial_number="E6614C311B"),
        fake_port("/dev/ttyUSB0", 0x10C4, 0xEA60),
    )
    with Device("usb:vid=0x2e8a,serial_number=e6614c311b", timeout=30) as device:
        assert device("8") == 8
        assert board.path in device.session.transport.describe()
    with Device('{"vid": "0x2E8A", "pid": "0x0005"}', timeout=30) as device:
        assert device("9") == 9


def test_usb_specifier_matching_nothing_is_port_not_found(usb_ports, fake_port):
    usb_ports(fake_port("/dev/ttyUSB0", 0x10C4, 0xEA60, product="CP2102"))
    with pytest.raises(PortNotFoundError, match=r"no attached serial port matches usb:vid=0x2e8a(.|\n)*ttyUSB0"):
        Device("usb:2e8a")


def test_serial_transport_is_found_for_port_specs():
    from belay_core.plugins import get_plugins

    plugins = get_plugins()
    for spec in ("/dev/ttyACM0", "COM3", "usb:2e8a", '{"vid": 11914}'):
        assert plugins.transport_for(spec).name == "serial", spec


def test_a_board_that_stops_reading_cannot_hold_a_call_past_its_timeout(pty_board):
    # Writing once blocked forever when the board stopped reading (classic raw REPL, a full pty).
    import os
    import signal

    from belay_core import DeviceTimeoutError

    board = pty_board("unix")
    with Device(board.path, timeout=3, pacing=False) as device:
        device.session.engine.raw_paste = False  # the whole code goes out in one write, as on old firmware
        os.killpg(board.process.pid, signal.SIGSTOP)
        try:
            with pytest.raises(DeviceTimeoutError, match="within 3 s"):
                device("x = " + repr("a" * 300_000))
        finally:
            os.killpg(board.process.pid, signal.SIGCONT)
        assert device("1 + 1") == 2
