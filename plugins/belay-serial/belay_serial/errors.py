"""Errors of the serial transport: both are `belay_core.errors.ConnectionLost`, so ``attempts=`` retries them.

`PortNotFoundError` is also the original belay's ``DeviceNotFoundError``.
"""

from __future__ import annotations

from belay_core.errors import ConnectionLost, DeviceNotFoundError


class PortNotFoundError(ConnectionLost, DeviceNotFoundError):
    """No port by that name exists, or no attached board matches a USB specifier."""


class PortBusyError(ConnectionLost):
    """Another program holds the port open exclusively."""
