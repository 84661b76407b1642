"""Exceptions raised by Belay. Every one derives from `BelayError`."""

from __future__ import annotations

from typing import Optional


class BelayError(Exception):
    """Base class of every error Belay raises."""


class PluginError(BelayError):
    """A plugin failed to load or registered something invalid."""


class TransportNotFoundError(BelayError):
    """No installed transport handles a device spec."""


class DeviceSpecError(BelayError):
    """A device spec, or an option given with it, is invalid."""


class DeviceClosedError(BelayError):
    """The `Device` was used after `close()`."""


class ConnectionLost(BelayError):
    """The line to the board is gone: the port closed, the process exited, the socket dropped."""


class DeviceTimeoutError(BelayError, TimeoutError):
    """The board did not finish in time.

    The board has been interrupted with Ctrl-C and the connection is usable again.
    """


class ProtocolError(BelayError):
    """The board answered something the raw-REPL protocol does not allow."""


class FeatureUnavailableError(BelayError):
    """The connected firmware lacks a feature the call needs."""


class NoMatchingExecuterError(BelayError):
    """No overload of a `Device` subclass's method fits the connected firmware."""


class DeviceError(BelayError):
    """Code on the board raised an exception.

    Parameters
    ----------
    traceback
        The board's traceback text, as the board printed it.
    """

    def __init__(self, traceback: str) -> None:
        self.traceback = traceback.strip("\r\n").replace("\r\n", "\n")
        super().__init__(self.traceback)

    def __str__(self) -> str:
        return self.traceback

    @property
    def exception_name(self) -> Optional[str]:
        """Name of the board's exception class (``"ValueError"``), if the traceback names one."""
        last = self.traceback.rsplit("\n", 1)[-1]
        name = last.split(":", 1)[0].strip()
        return name if name.isidentifier() else None
