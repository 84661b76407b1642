"""Belay: drive MicroPython and CircuitPython boards from host Python.

Examples
--------
>>> from belay_core import Device        # doctest: +SKIP
>>> with Device("emu:") as device:
...     device("1 + 1")
2
"""

from belay_core._version import __version__
from belay_core.device import Device, Implementation
from belay_core.errors import (
    BelayError,
    ConnectionLost,
    DeviceClosedError,
    DeviceError,
    DeviceSpecError,
    DeviceTimeoutError,
    FeatureUnavailableError,
    NoMatchingExecuterError,
    PluginError,
    ProtocolError,
    TransportNotFoundError,
)
from belay_core.executers import Executer
from belay_core.hookspecs import hookimpl
from belay_core.transport import Transport

__all__ = [
    "BelayError",
    "ConnectionLost",
    "Device",
    "DeviceClosedError",
    "DeviceError",
    "DeviceSpecError",
    "DeviceTimeoutError",
    "Executer",
    "FeatureUnavailableError",
    "Implementation",
    "NoMatchingExecuterError",
    "PluginError",
    "ProtocolError",
    "Transport",
    "TransportNotFoundError",
    "__version__",
    "hookimpl",
]
