"""Belay: drive MicroPython and CircuitPython boards from host Python.

Examples
--------
>>> from belay_core import Device        # doctest: +SKIP
>>> with Device("emu:") as device:
...     device("1 + 1")
2
"""

from belay_core._version import __version__
from belay_core.device import Device, DeviceMeta, Implementation
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

# Names of the original belay, so its scripts run after ``import belay_core as belay``.
BelayException = BelayError
PyboardException = DeviceError


def __getattr__(name: str) -> object:
    # Imported on first use: nothing heavy at ``import belay_core``.
    if name == "ProxyObject":
        from belay_core.proxy import ProxyObject

        return ProxyObject
    if name == "minify":
        from belay_core.minifier import minify

        return minify
    raise AttributeError(f"module 'belay_core' has no attribute {name!r}")


__all__ = [
    "BelayError",
    "BelayException",
    "ConnectionLost",
    "Device",
    "DeviceClosedError",
    "DeviceError",
    "DeviceMeta",
    "DeviceSpecError",
    "DeviceTimeoutError",
    "Executer",
    "FeatureUnavailableError",
    "Implementation",
    "NoMatchingExecuterError",
    "PluginError",
    "ProtocolError",
    "ProxyObject",
    "PyboardException",
    "Transport",
    "TransportNotFoundError",
    "__version__",
    "hookimpl",
    "minify",
]
