"""Registration of the serial transport and its commands (import-light: nothing imports pyserial here)."""

from __future__ import annotations

from belay_core import hookimpl
from belay_core.records import CommandRecord, ExportRecord, TransportRecord

PREFIXES: tuple[str, ...] = ("/dev/", "COM", "\\\\.\\", "{", "usb:")
"""Spec prefixes of the serial transport: POSIX device paths, Windows ports, UsbSpecifier JSON, ``usb:``."""


@hookimpl
def belay_register_transports() -> list[TransportRecord]:
    """The serial-port transport; it discovers attached boards."""
    return [
        TransportRecord(
            "serial",
            "belay_serial.transport:SerialTransport",
            "A serial port: /dev/ttyACM0, COM3, usb:vid=0x2E8A or UsbSpecifier JSON.",
            prefixes=PREFIXES,
            example="/dev/ttyACM0",
            discovers=True,
        )
    ]


@hookimpl
def belay_register_commands() -> list[CommandRecord]:
    """``belay devices`` and ``belay select``."""
    return [
        CommandRecord("devices", "belay_serial.commands:devices", "List the boards attached by USB serial."),
        CommandRecord("select", "belay_serial.commands:select", "Choose an attached board; print BELAY_DEVICE."),
    ]


@hookimpl
def belay_register_exports() -> list[ExportRecord]:
    """The original belay's USB names in ``belay_core``: ``UsbSpecifier`` and ``list_devices``."""
    return [
        ExportRecord("UsbSpecifier", "belay_serial.usb:UsbSpecifier", "A board named by its USB identity."),
        ExportRecord(
            "list_devices", "belay_serial.usb:list_usb_specifiers", "UsbSpecifiers of the attached USB serial ports."
        ),
    ]
