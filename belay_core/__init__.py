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
import importlib.util
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
    UnsafeBoardPathError,
    UsageError,
)
from belay_core.executers import Executer
from belay_core.frames import UnparsableResultWarning
from belay_core.hookspecs import hookimpl
from belay_core.sentinels import NO_RESULT, UNPARSABLE_RESULT
from belay_core.transport import Transport

_LAZY = {"ProxyObject": "belay_core.proxy", "minify": "belay_core.minifier"}
"""Names imported on first use: nothing heavy at ``import belay_core``."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value
    if name.startswith("_") or importlib.util.find_spec(f"{__name__}.{name}") is not None:
        # A submodule: ``from belay_core import hooks`` asks here before importing it.
        raise AttributeError(f"module 'belay_core' has no attribute {name!r}")
    # Names plugins add (belay_register_exports): the original belay's UsbSpecifier, list_devices, ...
    from belay_core.known_plugins import EXPORTS as KNOWN_EXPORTS
    from belay_core.plugins import get_plugins

    plugins = get_plugins()
    record = plugins.records("exports").get(name)
    if record is not None:
        value = record.load()
        globals()[name] = value
        return value
    distribution = KNOWN_EXPORTS.get(name)
    if distribution is not None:
        blocked = [i for i in plugins.infos.values() if i.distribution == distribution and i.status != "ok"]
        state = (
            f"which is installed but {blocked[0].status}: {blocked[0].error}"
            if blocked
            else f"which is not installed: pip install {distribution}"
        )
        raise MissingPluginError(f"belay_core.{name} comes from the {distribution} plugin, {state}")
    raise AttributeError(f"module 'belay_core' has no attribute {name!r}")


def __dir__() -> list[str]:
    from belay_core.known_plugins import EXPORTS as KNOWN_EXPORTS

    return sorted([*globals(), *_LAZY, *KNOWN_EXPORTS])


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
    "UnparsableResultWarning",
    "UnsafeBoardPathError",
    "UsageError",
    "UsbSpecifier",
    "__version__",
    "hookimpl",
    "list_devices",
    "minify",
]
