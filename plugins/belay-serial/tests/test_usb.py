"""UsbSpecifier, list_devices and discovery, with faked USB enumeration (the one mock)."""

from __future__ import annotations

import json

import pytest

from belay_core import Device, DeviceSpecError
from belay_serial import PortNotFoundError, UsbSpecifier, list_devices
from belay_serial.transport import SerialTransport


def test_list_devices_is_importable_from_the_package():
    import belay_serial

    assert belay_serial.list_devices is list_devices
    assert "list_devices" in dir(belay_serial)


def test_list_devices_keeps_usb_ports_sorted(usb_ports, fake_port):
    usb_ports(
        fake_port("/dev/ttyS0"),
        fake_port("/dev/ttyUSB0", 0x10C4, 0xEA60, manufacturer="Silicon Labs"),
        fake_port("/dev/ttyACM0", 0x2E8A, 0x0005, serial_number="E661", location="1-1.4:1.0"),
    )
    ports = list_devices()
    assert [p.port for p in ports] == ["/dev/ttyACM0", "/dev/ttyUSB0"]
    assert ports[0].vid_pid == "2e8a:0005"
    assert ports[0].serial_number == "E661" and ports[0].location == "1-1.4:1.0"
    assert [p.port for p in list_devices(all_ports=True)] == ["/dev/ttyACM0", "/dev/ttyS0", "/dev/ttyUSB0"]


def test_specifier_parses_usb_and_json_forms():
    assert UsbSpecifier.parse("usb:vid=0x2E8A,pid=0x0005") == UsbSpecifier(vid=0x2E8A, pid=5)
    assert UsbSpecifier.parse("usb:2e8a:0005") == UsbSpecifier(vid=0x2E8A, pid=5)
    assert UsbSpecifier.parse("usb:2e8a") == UsbSpecifier(vid=0x2E8A)
    assert UsbSpecifier.parse('{"vid": 11914, "pid": "0005", "product": "Pico"}') == UsbSpecifier(
        vid=0x2E8A, pid=5, product="Pico"
    )


def test_specifier_json_round_trips():
    spec = UsbSpecifier(vid=0x2E8A, pid=5, serial_number="E6614C", location="1-2:1.0")
    text = spec.to_json()
    assert json.loads(text) == {"vid": "0x2e8a", "pid": "0x0005", "serial_number": "E6614C", "location": "1-2:1.0"}
    assert UsbSpecifier.parse(text) == spec
    assert UsbSpecifier.parse(spec.to_spec()) == spec
    assert repr(UsbSpecifier(vid=0x2E8A, product="Pico")) == "UsbSpecifier(vid=0x2e8a, product='Pico')"


def test_specifier_with_comma_prints_as_json():
    spec = UsbSpecifier(manufacturer="Acme, Inc.")
    assert spec.to_spec() == '{"manufacturer": "Acme, Inc."}'


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("usb:", "names no board"),
        ("usb:colour=red", "colour: unknown field"),
        ("usb:vid", "not a hexadecimal USB id"),
        ("usb:vid=1,vid=2", "given twice"),
        ("usb:1:2:3", "usb:VID"),
        ('{"vid": "zz"}', "not a hexadecimal USB id"),
        ('{"vid": 70000}', "16 bits"),
        ("{}", "needs at least one of"),
        ('{"vid":', "not valid JSON"),
        ('{"vid": 1, "speed": 9}', "speed: unknown field"),
    ],
)
def test_bad_specifiers_are_clear_spec_errors(spec, message):
    with pytest.raises(DeviceSpecError, match=message):
        SerialTransport(spec)


def test_strings_match_case_insensitively(usb_ports, fake_port):
    usb_ports(
        fake_port("/dev/ttyACM0", 0x239A, 0x80F4, manufacturer="Adafruit", product="Pico W", serial_number="DE6"),
        fake_port("/dev/ttyACM1", 0x2E8A, 0x0005, manufacturer="MicroPython", product="Board in FS mode"),
    )
    assert UsbSpecifier(manufacturer="ADAFRUIT").to_port() == "/dev/ttyACM0"
    assert UsbSpecifier(product="board IN fs MODE").to_port() == "/dev/ttyACM1"
    assert UsbSpecifier(serial_number="de6", vid=0x239A).to_port() == "/dev/ttyACM0"


def test_to_port_with_no_match_lists_attached(usb_ports, fake_port):
    usb_ports(fake_port("/dev/ttyACM0", 0x2E8A, 0x0005, serial_number="AAA"))
    with pytest.raises(PortNotFoundError) as caught:
        UsbSpecifier(serial_number="BBB").to_port()
    assert "serial_number=BBB" in str(caught.value)
    assert "/dev/ttyACM0  2e8a:0005  serial_number=AAA" in str(caught.value)


def test_to_port_with_several_matches_lists_candidates(usb_ports, fake_port):
    usb_ports(
        fake_port("/dev/ttyACM0", 0x2E8A, 0x0005, serial_number="AAA"),
        fake_port("/dev/ttyACM1", 0x2E8A, 0x0005, serial_number="BBB"),
        fake_port("/dev/ttyUSB0", 0x10C4, 0xEA60),
    )
    with pytest.raises(DeviceSpecError) as caught:
        UsbSpecifier(vid=0x2E8A).to_port()
    message = str(caught.value)
    assert "2 attached serial ports match" in message
    assert "/dev/ttyACM0" in message and "/dev/ttyACM1" in message and "ttyUSB0" not in message
    assert UsbSpecifier(vid=0x2E8A, serial_number="bbb").to_port() == "/dev/ttyACM1"


def test_discovery_finds_known_vendors_only(usb_ports, fake_port):
    usb_ports(
        fake_port("/dev/ttyACM0", 0x2E8A, 0x0005),
        fake_port("/dev/ttyACM1", 0x1234, 0x5678, product="USB modem"),
        fake_port("/dev/ttyS0"),
    )
    assert SerialTransport.discover() == ["/dev/ttyACM0"]


def test_device_with_no_spec_and_no_board_says_so(usb_ports, monkeypatch):
    monkeypatch.delenv("BELAY_DEVICE", raising=False)
    with pytest.raises(DeviceSpecError, match="no board found attached"):
        Device()


def test_device_with_no_spec_uses_the_one_attached_board(usb_ports, fake_port, pty_board, monkeypatch):
    monkeypatch.delenv("BELAY_DEVICE", raising=False)
    board = pty_board("unix")
    usb_ports(fake_port(board.path, 0x2E8A, 0x0005), fake_port("/dev/ttyS0"))
    with Device(timeout=30) as device:
        assert device.spec == board.path
        assert device("40 + 2") == 42


def test_device_with_no_spec_and_several_boards_lists_them(usb_ports, fake_port, monkeypatch):
    monkeypatch.delenv("BELAY_DEVICE", raising=False)
    usb_ports(fake_port("/dev/ttyACM0", 0x2E8A, 0x0005), fake_port("/dev/ttyUSB0", 0x1A86, 0x7523))
    with pytest.raises(DeviceSpecError, match=r"2 boards attached \(/dev/ttyACM0, /dev/ttyUSB0\)"):
        Device()


def test_belay_device_holding_specifier_json(usb_ports, fake_port, pty_board, monkeypatch):
    board = pty_board("unix")
    usb_ports(fake_port(board.path, 0x2E8A, 0x0005, serial_number="E661"), fake_port("/dev/ttyACM9", 0x2E8A, 5))
    monkeypatch.setenv("BELAY_DEVICE", UsbSpecifier(vid=0x2E8A, serial_number="E661").to_json())
    with Device(timeout=30) as device:
        assert device("1 + 1") == 2


def test_port_specifier_is_the_shortest_that_tells_it_apart(usb_ports, fake_port):
    usb_ports(
        fake_port("/dev/ttyACM0", 0x2E8A, 0x0005, serial_number="AAA", location="1-1"),
        fake_port("/dev/ttyACM1", 0x2E8A, 0x0005, serial_number="BBB", location="1-2"),
        fake_port("/dev/ttyUSB0", 0x10C4, 0xEA60, location="1-3"),
        fake_port("/dev/ttyUSB1", 0x10C4, 0xEA60, location="1-4"),
    )
    ports = {p.port: p for p in list_devices()}
    assert ports["/dev/ttyACM1"].specifier() == UsbSpecifier(vid=0x2E8A, pid=5, serial_number="BBB")
    assert ports["/dev/ttyUSB1"].specifier() == UsbSpecifier(vid=0x10C4, pid=0xEA60, location="1-4")
