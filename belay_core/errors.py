"""Exceptions raised by Belay. Every one derives from `BelayError`.

The original belay's names are here too, with its hierarchy where code catches them:
`ConnectionLost` is a `ConnectionFailedError`; errors it raised as `ValueError` (bad definitions,
bad arguments, time not synchronised) are `UsageError`\\ s, which are `ValueError`\\ s as well.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Optional, TypeVar


class BelayError(Exception):
    """Base class of every error Belay raises (the original belay's ``BelayException``)."""


BelayException = BelayError
"""The original belay's name of `BelayError`."""


class PluginError(BelayError):
    """A plugin failed to load or registered something invalid."""


class MissingPluginError(PluginError, ImportError):
    """A name or feature comes from a plugin distribution that is not installed (the message names it)."""


class UsageError(BelayError, ValueError):
    """A call or a definition was given something Belay cannot use; also a `ValueError`, as in the original."""


class DefinitionError(UsageError):
    """A decorated function or a `Device` subclass is defined in a way Belay cannot use.

    Raised when the function or class is defined, as the original belay did: an autoinit setup with
    parameters, a name that is both an executer method and a plain attribute, an overload after the
    catch-all one, a generator given to ``@device.setup``.
    """


class SpecialFunctionNameError(BelayError):
    """A decorated function has a name Belay reserves (``__*__``, ``_belay*``, ``__belay*``)."""


class TransportNotFoundError(BelayError):
    """No installed transport handles a device spec."""


class DeviceSpecError(UsageError):
    """A device spec, or an option given with it, is invalid."""


class InsufficientSpecifierError(DeviceSpecError):
    """A USB specifier matches more than one attached board."""


class DeviceClosedError(BelayError):
    """The `Device` was used after `close()`."""


class ConnectionFailedError(BelayError):
    """The board could not be reached (the original belay's name; `ConnectionLost` is one)."""


class ConnectionLost(ConnectionFailedError):
    """The line to the board is gone: the port closed, the process exited, the socket dropped."""


class DeviceNotFoundError(ConnectionFailedError):
    """No attached board matches the spec (a USB specifier, a port name)."""


class AuthenticationError(ConnectionFailedError):
    """The board refused the password (WebREPL, telnet), or none was given."""


class PyboardError(BelayError):
    """Talking to the board went wrong: it did not answer as the raw REPL does, or not in time.

    The original belay's name; `ProtocolError` and `DeviceTimeoutError` are ones.
    """


class DeviceTimeoutError(PyboardError, TimeoutError):
    """The board did not finish in time.

    The board has been interrupted with Ctrl-C and the connection is usable again.
    """


class ProtocolError(PyboardError):
    """The board answered something the raw-REPL protocol does not allow."""


class NotBelayResponseError(ProtocolError):
    """A call that should end with Belay's result frame ended without one."""


class DeviceResetError(BelayError):
    """The board restarted while a call ran (its firmware crashed, or it was reset).

    Belay has restored its helpers, the start-up code and the recorded calls, as `Device.soft_reset`
    does; the call's work is lost.
    """


class FeatureUnavailableError(BelayError):
    """The connected firmware lacks a feature the call needs."""


class UnsafeBoardPathError(BelayError):
    """A name the board gave would lead outside the host folder Belay writes into; nothing was written.

    Every name a board lists is untrusted: ``..``, ``.``, empty parts, absolute names, drive letters
    and backslashes are refused, so a compromised or buggy board cannot write other host files.
    """


class NoMatchingExecuterError(BelayError):
    """No overload of a `Device` subclass's method fits the connected firmware."""


class MaxHistoryLengthError(BelayError):
    """More calls were recorded for replay than Belay keeps, so a replay cannot restore the board's state."""


class DeviceError(BelayError):
    """Code on the board raised an exception (the original belay's ``PyboardException``).

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


PyboardException = DeviceError
"""The original belay's name of `DeviceError`."""


class DeviceExit(DeviceError):
    """The program on the board ended with ``sys.exit()`` or ``raise SystemExit``.

    The firmware has done what it does then (current MicroPython soft-reboots; old firmware such as
    the micro:bit's 1.9 carries on), and Belay has restored what it keeps on the board: its helpers,
    the start-up code and the recorded setups and definitions, as `Device.soft_reset` does.

    Parameters
    ----------
    code
        The exit code, as ``SystemExit.code``: ``None``, an int, or another value (``sys.exit("why")``).
    known
        Whether the code is known: Belay sees it only when the exit happened in code it sent in the
        same call or in a task whose source mentions ``exit``; otherwise ``code`` is ``None``.
    rebooted
        Whether the firmware soft-rebooted.
    """

    def __init__(self, code: Any = None, *, known: bool = True, rebooted: bool = False) -> None:
        self.code = code
        self.known = known
        self.rebooted = rebooted
        what = f"sys.exit({code!r})" if known else "sys.exit() (with a code Belay did not see)"
        then = "soft-rebooted; Belay restored its state" if rebooted else "kept running"
        super().__init__(f"SystemExit: the program on the board called {what}; the board {then}")

    @property
    def exit_status(self) -> int:
        """The process exit status a host program would give for this code, as CPython does."""
        if self.code is None:
            return 0
        if isinstance(self.code, int):
            return int(self.code) & 0xFF
        return 1


_F = TypeVar("_F", bound=Callable[..., Any])


def raised_on_the_board(func: _F) -> _F:
    """Decorate the calls users make (tasks, ``device(...)``, proxies) so a board error's host traceback is short.

    A `DeviceError` leaves ``func`` with its host traceback cut at this frame: an uncaught board error
    shows the user's own line, this one line of Belay's, and then the board's traceback (with host
    files and lines), not the frames of Belay's engine in between. pytest leaves this frame out of
    its failure reports too (``__tracebackhide__``).
    """

    @functools.wraps(func)
    def raised_on_the_board(*args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True  # read by pytest
        try:
            return func(*args, **kwargs)
        except DeviceError as error:
            raise error.with_traceback(None)  # the board's traceback follows

    return raised_on_the_board  # type: ignore[return-value]
