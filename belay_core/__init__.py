"""Belay: drive MicroPython and CircuitPython boards from host Python.

The original belay's public names are all here, so its scripts and tests run after
``import belay_core as belay`` (see docs/compat.md).

Examples
--------
>>> from belay_core import Device        # doctest: +SKIP
>>> with Device("emu:") as device:
...     device("1 + 1")
2
"""

from __future__ import annotations

import importlib
from typing import Any

from belay_core._version import __version__
from belay_core.device import Device, DeviceMeta, Implementation
from belay_core.errors import (
    AuthenticationError,
    BelayError,
    BelayException,
    ConnectionFailedError,
    ConnectionLost,
    DefinitionError,
    DeviceClosedError,
    DeviceError,
    DeviceExit,
    DeviceNotFoundError,
    DeviceResetError,
    DeviceSpecError,
    DeviceTimeoutError,
    FeatureUnavailableError,
    InsufficientSpecifierError,
    MaxHistoryLengthError,
    MissingPluginError,
    NoMatchingExecuterError,
    NotBelayResponseError,
    PluginError,
    ProtocolError,
    PyboardError,
    PyboardException,
    SpecialFunctionNameError,
    TransportNotFoundError,
    UsageError,
)
from belay_core.executers import Executer
from belay_core.hookspecs import hookimpl
from belay_core.sentinels import NO_RESULT, UNPARSABLE_RESULT
from belay_core.transport import Transport

_LAZY = {"ProxyObject": "belay_core.proxy", "minify": "belay_core.minifier"}
"""Names imported on first use: nothing heavy at ``import belay_core``."""

_FROM_PLUGINS = {
    "UsbSpecifier": ("belay_serial", "UsbSpecifier", "belay-serial"),
    "list_devices": ("belay_serial", "list_usb_specifiers", "belay-serial"),
}
"""The original's USB names, which live in a plugin here: imported on first use."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value
    plugin = _FROM_PLUGINS.get(name)
    if plugin is not None:
        package, attribute, distribution = plugin
        try:
            value = getattr(importlib.import_module(package), attribute)
        except ModuleNotFoundError as exc:
            if exc.name != package:
                raise
            raise MissingPluginError(
                f"belay_core.{name} comes from the {distribution} plugin, which is not installed: "
                f"pip install {distribution}"
            ) from None
        globals()[name] = value
        return value
    raise AttributeError(f"module 'belay_core' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY, *_FROM_PLUGINS])


__all__ = [
    "NO_RESULT",
    "UNPARSABLE_RESULT",
    "AuthenticationError",
    "BelayError",
    "BelayException",
    "ConnectionFailedError",
    "ConnectionLost",
    "DefinitionError",
    "Device",
    "DeviceClosedError",
    "DeviceError",
    "DeviceExit",
    "DeviceMeta",
    "DeviceNotFoundError",
    "DeviceResetError",
    "DeviceSpecError",
    "DeviceTimeoutError",
    "Executer",
    "FeatureUnavailableError",
    "Implementation",
    "InsufficientSpecifierError",
    "MaxHistoryLengthError",
    "MissingPluginError",
    "NoMatchingExecuterError",
    "NotBelayResponseError",
    "PluginError",
    "ProtocolError",
    "ProxyObject",
    "PyboardError",
    "PyboardException",
    "SpecialFunctionNameError",
    "Transport",
    "TransportNotFoundError",
    "UsageError",
    "UsbSpecifier",
    "__version__",
    "hookimpl",
    "list_devices",
    "minify",
]
