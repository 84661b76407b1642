"""The byte-stream interface every transport implements, and finding the transport for a spec."""

from __future__ import annotations

import abc
import os
from typing import Any, ClassVar, Optional

from belay_core.known_plugins import transport_distribution


class Transport(abc.ABC):
    """A byte stream to a board: the line the raw-REPL engine speaks over.

    Subclasses are registered with `belay_core.records.TransportRecord` and built from a device spec.
    They do no protocol work: `open`, `read`, `write`, `close`, nothing more.

    Parameters
    ----------
    spec
        The device spec the user gave (``"exec:micropython"``, ``"/dev/ttyUSB0"``).
    **options
        Transport options given to `Device` (baud rate, password, ...). A transport rejects options
        it does not know with `belay_core.errors.DeviceSpecError`.
    """

    restartable: bool = False
    """Whether `open` after a lost connection starts a fresh board (emulators and ``exec:`` do)."""

    soft_reset_on_connect: bool = True
    """Whether `Device` may soft-reset the board on connect (a soft reset ends a WebREPL connection)."""

    legacy_options: ClassVar[frozenset[str]] = frozenset()
    """Which of the original belay's connection keywords (``baudrate``, ``user``, ``password``,
    ``exclusive``) this transport takes through ``**options``; keyword parameters of ``__init__`` with
    those names count without being listed. `Device` drops the others, as the original ignored
    ``baudrate`` for a network board."""

    def __init__(self, spec: str, **options: Any) -> None:
        self.spec = spec
        self.options = options

    @abc.abstractmethod
    def open(self) -> None:
        """Open the line. Raise `belay_core.errors.ConnectionLost` with the reason when it cannot."""

    @abc.abstractmethod
    def read(self, size: int, timeout: Optional[float]) -> bytes:
        """Read what has arrived, up to ``size`` bytes.

        Parameters
        ----------
        size
            The most bytes to return.
        timeout
            Seconds to wait for the first byte; ``None`` waits forever.

        Returns
        -------
        bytes
            One or more bytes, or ``b""`` when ``timeout`` passed with nothing to read.

        Raises
        ------
        ConnectionLost
            When the line is gone (end of file, port removed, socket closed).
        """

    @abc.abstractmethod
    def write(self, data: bytes) -> None:
        """Write all of ``data``, blocking until the line accepted it; raise `ConnectionLost` if gone."""

    def write_within(self, data: bytes, timeout: float) -> bool:
        """Write all of ``data`` within ``timeout`` seconds; return ``False`` when time ran out first.

        Belay writes through this whenever a call has a deadline, so a board that stops reading
        cannot hold a call past its timeout. Some of ``data`` may have gone out when it returns
        ``False``. The default writes with `write`, unbounded: transports override it.

        Raises
        ------
        ConnectionLost
            When the line is gone.
        """
        self.write(data)
        return True

    @abc.abstractmethod
    def close(self) -> None:
        """Close the line; closing twice is harmless."""

    @classmethod
    def discover(cls) -> list[str]:
        """Specs of the boards this transport finds attached right now (for ``Device()`` with no spec).

        Only called for transports registered with ``discovers=True``.
        """
        return []

    def describe(self) -> str:
        """Human-readable name of the line, for messages."""
        return self.spec

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()!r}>"


def write_fd_within(fd: int, data: bytes, deadline: Optional[float]) -> bool:
    """Write all of ``data`` to the non-blocking descriptor ``fd``, waiting for room in ``select``.

    For `Transport.write_within` of transports over a pipe or a POSIX serial port. ``deadline`` is a
    `time.monotonic` time (``None``: wait as long as it takes); returns ``False`` when it passed with
    some of ``data`` unwritten. ``OSError`` (the line is gone) is the caller's to translate.
    """
    import select
    import time

    view = memoryview(data)
    while view:
        wait = None if deadline is None else deadline - time.monotonic()
        if (wait is not None and wait <= 0) or not select.select([], [fd], [], wait)[1]:
            return False
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            continue
    return True


def install_hint(spec: str) -> Optional[str]:
    """Name the distribution that provides a transport for ``spec``, if one of Belay's own does.

    The patterns are `belay_core.known_plugins.TRANSPORTS`.

    Examples
    --------
    >>> install_hint("ws://192.168.4.1")
    'belay-webrepl'
    """
    return transport_distribution(spec)
