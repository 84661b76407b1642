"""Belay transport for serial ports, USB board specifiers and the ``devices``/``select`` commands.

The names below are imported on first use, so importing ``belay_serial`` (as ``belay --help`` does
through the plugin's hooks) never imports pyserial or pydantic.
"""

from __future__ import annotations

import importlib
from typing import Any

from belay_serial._version import __version__

_LAZY = {
    "UsbSpecifier": "belay_serial.usb",
    "SerialPort": "belay_serial.usb",
    "list_devices": "belay_serial.usb",
    "list_usb_specifiers": "belay_serial.usb",
    "KNOWN_VENDORS": "belay_serial.usb",
    "SerialTransport": "belay_serial.transport",
    "PortBusyError": "belay_serial.errors",
    "PortNotFoundError": "belay_serial.errors",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'belay_serial' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "KNOWN_VENDORS",
    "PortBusyError",
    "PortNotFoundError",
    "SerialPort",
    "SerialTransport",
    "UsbSpecifier",
    "__version__",
    "list_devices",
    "list_usb_specifiers",
]
