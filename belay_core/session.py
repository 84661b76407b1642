"""The session: one live connection to a board, under everything `Device` does.

A `Session` owns the transport, the raw-REPL engine and the lock that serialises calls, the board code
Belay keeps there (the frames' emitter, the firmware probe, the start-up code), the record of calls to
replay after the board lost its heap (a soft reset, a reconnect, a ``sys.exit()``, a crash), the
result frames of every call, and the board's clock. Its methods are the seam the other parts use
(`Device`, files, sync, proxies, executers, hashers and plugins): each takes its options by keyword,
and none of those parts touches the session's private names.
"""

from __future__ import annotations

import ast
import errno
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Optional

from belay_core import startup as board_startup
from belay_core.errors import (
    ConnectionLost,
    DeviceClosedError,
    DeviceExit,
    DeviceResetError,
    DeviceTimeoutError,
    FeatureUnavailableError,
    MaxHistoryLengthError,
    NotBelayResponseError,
    ProtocolError,
)
from belay_core.frames import EMITTER, MARK, Frame, RequestScanner, ResultFilter, decode, new_token
from belay_core.implementation import Implementation
from belay_core.repl import Pacing, RawRepl
from belay_core.source import catch_exit, escape_controls, mentions_exit
from belay_core.timesync import TimeSync
from belay_core.tracebacks import SourceOrigin, defined_functions, device_error, remap, unwrap_exit_frames

if TYPE_CHECKING:
    from belay_core.frames import TextSink
    from belay_core.transport import Transport

BoardService = Callable[..., "tuple[bytes, bytes]"]
"""A host service the board calls (`Session.services`): the board's arguments in, the answer's kind and payload out."""


class _Default:
    """The type of `DEFAULT`, whose repr names it in signatures (``help()``, the API reference)."""

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Any = _Default()
"""Marks an option left to the session's default (``timeout``, ``stream_out``)."""

CLASSIC_PIECE = 384
"""Bytes of start-up code sent in one call to firmware without raw-paste.

Classic raw-REPL input is paced (`belay_core.repl.CLASSIC_PACING`), so a whole start-up would arrive
intact, but compiling it in one piece leaves the micro:bit's 9 KiB heap with 1.2 KB free instead of
3.2 KB, and a 2 KB task definition afterwards hangs the firmware; pieces are compiled one at a time."""

MAX_HISTORY = 1000
"""Recorded calls kept for replay unless told otherwise."""
CONNECT_TIMEOUT = 10.0
"""Seconds a board may take to reach the raw REPL at connect (a soft reset included), at most."""
HARD_RESET_ATTEMPTS = 10
"""Tries to reconnect after a hard reset, one second apart (a USB board needs a few seconds to come back)."""
HARD_RESET_WAIT = 3.0
"""Seconds to wait for the line to drop or go quiet after ``machine.reset()``."""

_HELPER_LOST = 'Traceback (most recent call last):\n  File "<stdin>", line 1, in <module>\nNameError: name \'__belay_'
_HELPERS = ("r", "f", "gn", "g", "o", "x", "n", "m")


def _helper_lost(stderr: bytes) -> bool:
    """Whether a call failed at once because one of Belay's helpers is missing (its first name)."""
    text = stderr.decode("utf-8", "replace").replace("\r\n", "\n").strip()
    if not text.startswith(_HELPER_LOST) or text.count("\n") != 2:
        return False
    name = text[len(_HELPER_LOST) :].partition("'")[0]
    return name in _HELPERS


def _top_level_pieces(code: str, limit: int) -> list[str]:
    """Split ``code`` at top-level statements into pieces of about ``limit`` bytes (never inside a block)."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for line in code.splitlines(keepends=True):
        top = line[:1] not in (" ", "\t", "") and not line.startswith(("except", "else", "elif", "finally"))
        if top and current and size + len(line) > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line)
    if current:
        pieces.append("".join(current))
    return pieces


class Session:
    """One live connection: transport, raw-REPL engine, lock, replay and result frames.

    Parameters
    ----------
    transport
        The line, not yet open.
    name
        How to name the board in messages (its spec).
    startup
        Code run at every start (after connecting, and after each replay's fresh heap).
    timeout
        Seconds a call may take unless told otherwise; ``None`` waits forever.
    attempts
        Reconnect this many times when the line is lost, then finish the call (0: raise).
    retry_calls
        After such a reconnect, run the call that was in flight again (``True``, the original belay's
        way: at least once, so it may run twice), or raise `ConnectionLost` saying it may or may not
        have run (``False``: at most once).
    stream_out
        Where output goes unless told otherwise: an object with ``write(str)``, ``None`` to discard,
        or `DEFAULT` for ``sys.stdout`` at the time of each call.
    pacing
        How classic raw-REPL input is written (see `belay_core.repl.RawRepl`).
    max_history
        Recorded calls kept for replay; a replay that would need more raises `MaxHistoryLengthError`.

    Attributes
    ----------
    implementation
        The firmware, learned at `connect` and at every replay.
    board_cache
        What parts of Belay installed on the board for this heap (a hasher, ...); cleared at replay.
    clock
        The relation of the board's clock to the host's (`belay_core.timesync.TimeSync`); reset at replay.
    lock
        Held while the line is used: hold it (``with session.lock:``) to use the transport directly.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        name: str,
        startup: str,
        timeout: Optional[float],
        attempts: int = 0,
        retry_calls: bool = True,
        stream_out: Optional[TextSink] = DEFAULT,
        pacing: Pacing = None,
        max_history: int = MAX_HISTORY,
    ) -> None:
        self.transport = transport
        self.name = name
        self.startup = startup
        self.timeout = timeout
        self.attempts = attempts
        self.retry_calls = retry_calls
        self.replays = 0
        """How many times the board's state was restored (soft reset, reconnect, a reboot seen): work that
        spans calls (a file transfer) sees from it that the board lost what it had set up."""
        self.stream_out = stream_out
        self.pacing = pacing
        self.max_history = max_history
        self.token = new_token()
        self.lock = threading.RLock()
        self.services: dict[str, BoardService] = {}
        """Host services code on the board may call while a call runs, by name (`belay_core.mount` serves a
        host folder): ``service(*args) -> (kind, payload)``, see `_answer`."""
        self.engine = RawRepl(transport, pacing=pacing)
        self.implementation: Implementation = Implementation("micropython")
        self.board_cache: dict[str, Any] = {}
        self.clock = TimeSync()
        self.origins: dict[str, SourceOrigin] = {}
        self._history: list[tuple[Optional[str], str]] = []  # (name a definition binds, source)
        self._history_full = False
        self._deferred: list[str] = []
        self._exiters: set[str] = set()
        self._caught_exit = False
        self._reconnecting = False
        self._closed = False

    # ------------------------------------------------------------------------------------------------
    # Connecting, replaying
    # ------------------------------------------------------------------------------------------------

    def connect(self, *, soft_reset: bool = True) -> None:
        """Open the line, enter the raw REPL, define the board code, run start-up, learn the firmware.

        Three round trips where the firmware has raw-paste. The line is closed again if any of it fails.
        """
        self.transport.open()
        try:
            self.engine.enter(
                soft_reset=soft_reset and self.transport.soft_reset_on_connect, timeout=self._connect_timeout()
            )
            self._start()
        except BaseException:
            self.transport.close()
            self._closed = True
            raise

    def _connect_timeout(self) -> float:
        """Seconds a board may take to answer at connect: `CONNECT_TIMEOUT`, or the calls' timeout if shorter."""
        return CONNECT_TIMEOUT if self.timeout is None else min(self.timeout, CONNECT_TIMEOUT)

    def _start(self) -> None:
        """Define the board code, run start-up and learn the firmware: one round trip where raw-paste exists.

        Firmware without raw-paste gets the code in pieces of at most `CLASSIC_PIECE` bytes, each
        acknowledged before the next, which leaves a small heap more room (see there).
        """
        code = (
            EMITTER.format(token=self.token)
            + board_startup.PROBE
            + self.startup
            + "\n__belay_r(__belay_i())\ndel __belay_i"
        )
        pieces = [code] if self.engine.raw_paste else _top_level_pieces(code, CLASSIC_PIECE)
        for piece in pieces[:-1]:
            self.run(piece)
        self.implementation = Implementation.from_board(self.value(pieces[-1]))

    def replay(self) -> None:
        """Define the board code, run start-up and replay the recorded calls, after the board lost its heap.

        Raises
        ------
        MaxHistoryLengthError
            When more calls were recorded than ``max_history``: the replay stops short of the latest
            state, so it is refused (the board code and start-up code are restored).
        """
        self.replays += 1
        self._deferred.clear()
        self._start()
        self.clock.reset()
        self.board_cache.clear()
        if self._history_full:
            raise MaxHistoryLengthError(
                f"more than {self.max_history} calls were recorded for replay, so the board's state cannot "
                "be restored; record fewer calls (record=False) or raise Device.MAX_CMD_HISTORY_LEN"
            )
        for _, code in list(self._history):
            self.run(code)

    def soft_reset(self) -> None:
        """Soft-reset the board (fresh heap, same files) and replay: the session stays usable."""
        with self.lock:
            self._check_open()
            self._deferred.clear()
            self.engine.soft_reset()
            self.replay()

    def hard_reset(self, *, attempts: int = HARD_RESET_ATTEMPTS) -> None:
        """Reset the board as its reset button would (``machine.reset()``), reconnect and replay.

        A board Belay starts itself (an emulated or ``exec:`` board) is reset by starting it afresh.

        Parameters
        ----------
        attempts
            Tries to reconnect, one second apart, while the board reboots (a USB board leaves and
            comes back).

        Raises
        ------
        FeatureUnavailableError
            When the firmware has no ``machine.reset()`` and Belay cannot restart the board.
        ConnectionLost
            When the board did not come back.
        """
        with self.lock:
            self._check_open()
            self._deferred.clear()
            if not self.transport.restartable:
                found = self.value(
                    "try:\n import machine;__belay_hr=machine.reset\nexcept (ImportError,AttributeError):\n"
                    " __belay_hr=None\n__belay_r(__belay_hr is not None)\n"
                )
                if not found:
                    raise FeatureUnavailableError(
                        f"{self.name!r}: the firmware has no machine.reset() and Belay cannot restart the board; "
                        "press its reset button, or soft-reset it"
                    )
                try:  # the board reboots before it can answer: its line drops, or it stops answering
                    self.engine.exec(b"__belay_hr()", timeout=HARD_RESET_WAIT)
                except (ConnectionLost, DeviceTimeoutError, ProtocolError):
                    pass
            self.reconnect(attempts=attempts)

    def reconnect(self, *, attempts: Optional[int] = None) -> None:
        """Open the line again (restarting an emulated or ``exec:`` board) and replay.

        Parameters
        ----------
        attempts
            Tries, one second apart; default the session's ``attempts`` (at least 1).

        Raises
        ------
        ConnectionLost
            When every try failed.
        """
        with self.lock:
            last: Optional[BaseException] = None
            self._reconnecting = True
            tries = max(1, self.attempts if attempts is None else attempts)
            try:
                for attempt in range(tries):
                    if attempt:
                        time.sleep(1.0)
                    self.transport.close()
                    try:
                        self.transport.open()
                        self.engine = RawRepl(self.transport, pacing=self.pacing)
                        self.engine.enter(
                            soft_reset=self.transport.soft_reset_on_connect, timeout=self._connect_timeout()
                        )
                        self.replay()
                        return
                    except ConnectionLost as exc:
                        last = exc
            finally:
                self._reconnecting = False
            raise ConnectionLost(f"could not reconnect to {self.name!r}: {last}")

    def close(self) -> None:
        """Leave the raw REPL and close the line; closing twice is harmless."""
        with self.lock:
            if self._closed:
                return
            self._closed = True
            try:
                self.engine.exit()
            finally:
                self.transport.close()

    @property
    def closed(self) -> bool:
        """Whether `close` was called."""
        return self._closed

    @property
    def round_trips(self) -> int:
        """Round trips to the board since connecting (connect included)."""
        return self.engine.round_trips

    @property
    def bytes_written(self) -> int:
        """Bytes written to the board since connecting."""
        return self.engine.bytes_written

    def _check_open(self) -> None:
        if self._closed:
            raise DeviceClosedError(f"the device {self.name!r} is closed")

    # ------------------------------------------------------------------------------------------------
    # Calls
    # ------------------------------------------------------------------------------------------------

    def run(
        self,
        code: str,
        *,
        timeout: Optional[float] = DEFAULT,
        stream_out: Optional[TextSink] = DEFAULT,
        record: bool = False,
        origin: Optional[SourceOrigin] = None,
        user: bool = False,
        defines: Optional[str] = None,
    ) -> None:
        """Run statements on the board.

        Parameters
        ----------
        code
            Board source.
        timeout
            Seconds the call may take; default the session's.
        stream_out
            Where its output goes; default the session's.
        record
            Replay it after the board lost its heap.
        origin
            Where ``code`` comes from on the host: tracebacks of its ``<module>`` frames point there.
        user
            The code is the user's: control characters are escaped and a ``sys.exit()`` in it is caught
            (see `belay_core.source`); Belay's own code skips that work.
        defines
            The name the recorded code binds and does nothing else (a task's ``def``). It supersedes
            an earlier recorded definition of that name when only definitions were recorded since,
            so redefining functions never fills the history.

        Raises
        ------
        DeviceError
            When the code raised on the board.
        DeviceExit, DeviceResetError, DeviceTimeoutError, ConnectionLost
        """
        self._call(code, timeout, stream_out, record, origin, user, defines)

    def frame(
        self,
        code: str,
        *,
        timeout: Optional[float] = DEFAULT,
        stream_out: Optional[TextSink] = DEFAULT,
        record: bool = False,
        origin: Optional[SourceOrigin] = None,
        user: bool = False,
        stop_ok: bool = False,
    ) -> Frame:
        """Run code that ends by printing a result frame (``__belay_r(...)``); return the frame.

        The options are `run`'s; ``stop_ok`` accepts a call that ends without a frame on firmware that
        ends a ``SystemExit`` silently. See `belay_core.frames.decode` for turning it into a value.

        Raises
        ------
        DeviceExit
            When the code called ``sys.exit()``.
        """
        frame = self._call(code, timeout, stream_out, record, origin, user)
        if frame is None or frame.kind == "X":
            if not stop_ok:
                # Firmware that does not reboot on SystemExit (MicroPython 1.9) ends the call silently.
                raise DeviceExit(known=False)
            raise NotBelayResponseError("the board printed no result for the expression")
        return frame

    def value(self, code: str, *, timeout: Optional[float] = DEFAULT, trusted: bool = False) -> Any:
        """Run Belay's own code that ends with ``__belay_r(...)`` and return the plain value, output discarded.

        Parameters
        ----------
        code
            Board source ending in a result frame.
        timeout
            Seconds the call may take; default the session's.
        trusted
            Parse the value with `eval` (see `belay_core.frames.decode`).
        """
        return decode(self.frame(code, timeout=timeout, stream_out=None), trusted=trusted)

    def defer(self, code: str) -> None:
        """Run ``code`` before the next call (for finalizers, which must not talk to the board)."""
        self._deferred.append(code)

    def note_exiter(self, name: str) -> None:
        """Calls naming board function ``name`` (whose source mentions ``exit``) catch its ``sys.exit()``."""
        self._exiters.add(name)

    def _output(self, stream: Optional[TextSink]) -> ResultFilter:
        origins = self.origins
        return ResultFilter(
            sys.stdout if stream is DEFAULT else stream,
            (lambda line: remap(line, origins)) if origins else None,
            token=self.token.encode(),
            on_request=self._answer if self.services else None,
        )

    def request_scanner(self) -> Optional[RequestScanner]:
        """A `RequestScanner` answering the board's requests in raw output (the REPL at a terminal), if any service."""
        return RequestScanner(self.token.encode(), self._answer) if self.services else None

    def _answer(self, frame: Frame) -> None:
        """Answer a board request (a ``Q`` frame: ``repr((service, *args))``) on the board's stdin, at once.

        The answer is ``\\x02 TOKEN A KIND LENGTH \\n PAYLOAD`` (the board skips what comes before the
        mark: keys typed at its REPL meanwhile): kind ``b`` raw bytes, ``v`` a literal's repr, ``e`` an
        errno (the board raises ``OSError`` with it). A damaged request is answered with ``EIO``.
        """
        kind, payload = b"e", b"%d" % errno.EIO
        if not frame.damaged:
            try:
                name, *args = ast.literal_eval(frame.payload)
                kind, payload = self.services[name](*args)
            except OSError as exc:
                kind, payload = b"e", b"%d" % (exc.errno or errno.EIO)
            except Exception:  # a malformed request, an unknown service: the board gets an error, not a hang
                kind, payload = b"e", b"%d" % errno.EINVAL
        self.transport.write(MARK + self.token.encode() + b"A" + kind + b"%d\n" % len(payload) + payload)

    def _call(
        self,
        source: str,
        timeout: Optional[float],
        stream_out: Optional[TextSink],
        record: bool,
        origin: Optional[SourceOrigin],
        user: bool,
        defines: Optional[str] = None,
    ) -> Optional[Frame]:
        if timeout is DEFAULT:
            timeout = self.timeout
        stream = self.stream_out if stream_out is DEFAULT else stream_out
        if user:
            source = escape_controls(source)
            if mentions_exit(source, self._exiters):
                source = catch_exit(source)
                self._caught_exit = True
        with self.lock:
            self._check_open()
            if self._deferred:
                source = "\n".join([*self._deferred, source])
                self._deferred.clear()
            output = self._output(stream)
            try:
                stderr = self.engine.exec(source.encode(), timeout=timeout, on_stdout=output)
            except ConnectionLost as lost:
                if not self.attempts or self._reconnecting:
                    raise
                self.reconnect()
                if not self.retry_calls:
                    raise ConnectionLost(
                        f"{lost}; Belay reconnected and restored the board's recorded state, but did not run the "
                        "call again (retry_calls=False): it may or may not have run"
                    ) from None
                output = self._output(stream)
                stderr = self.engine.exec(source.encode(), timeout=timeout, on_stdout=output)
            if stderr and _helper_lost(stderr):
                # The board lost Belay's helpers behind its back (reset from a terminal, a watchdog):
                # nothing of the call ran (the helper is its first name), so restore them and run it.
                self.replay()
                output = self._output(stream)
                stderr = self.engine.exec(source.encode(), timeout=timeout, on_stdout=output)
            frame = output.finish()
            exit_frame = output.exit_frame
            if self.engine.reset_in_call:
                self.replay()
                raise DeviceResetError(
                    f"the board {self.name!r} restarted while the call ran (its firmware crashed or it was reset); "
                    "Belay restored its helpers, start-up code and recorded calls"
                )
            if self.engine.soft_rebooted or exit_frame is not None:
                self._exited(exit_frame, self.engine.soft_rebooted)
            if record and not stderr:
                self._record(source, defines)
        if stderr:
            text = stderr.decode("utf-8", errors="replace")
            if self._caught_exit:
                text = unwrap_exit_frames(text)
            functions = self.origins
            if origin is not None:  # functions this very code defines (a file run with belay run) map with it
                functions = {**self.origins, **dict.fromkeys(defined_functions(source), origin)}
            raise device_error(remap(text, functions, origin))
        if frame is not None and frame.damaged:
            raise ProtocolError(
                f"the board's answer was damaged on the line ({frame.kind} frame of {len(frame.payload)} characters "
                f"starting {frame.payload[:40]!r} does not match its length and sum); the call ran on the board, "
                "its result is lost"
            )
        return frame

    def _exited(self, exit_frame: Optional[Frame], rebooted: bool) -> None:
        """The call ended in ``SystemExit``: restore what a reboot took, then raise `DeviceExit`."""
        code: Any = None
        if exit_frame is not None:
            try:
                code = ast.literal_eval(exit_frame.payload)
            except (ValueError, SyntaxError):
                code = exit_frame.payload
        if rebooted:
            self.replay()
        raise DeviceExit(code, known=exit_frame is not None, rebooted=rebooted)

    def _record(self, source: str, defines: Optional[str]) -> None:
        if defines is not None:
            # Drop the latest earlier definition of that name if nothing but definitions came after it:
            # no recorded call can have used it, so the replay ends in the same state.
            for index in range(len(self._history) - 1, -1, -1):
                name = self._history[index][0]
                if name is None:
                    break
                if name == defines:
                    del self._history[index]
                    break
        if len(self._history) < self.max_history:
            self._history.append((defines, source))
        else:
            self._history_full = True

    # ------------------------------------------------------------------------------------------------
    # Handing the line over
    # ------------------------------------------------------------------------------------------------

    def interactive(self, session: Callable[[Transport], None]) -> None:
        """Hand the line to ``session(transport)`` in the board's friendly REPL, then take it back.

        Afterwards the raw REPL is entered again; if the board was reset meanwhile, the board code,
        start-up code and recorded calls are restored, as after `soft_reset`.
        """
        with self.lock:
            self._check_open()
            self.engine.exit()
            self.transport.write(b"\r")  # the friendly prompt, for the person at the keyboard
            session(self.transport)
            self.engine.enter()
            found: list[bytes] = []
            self.engine.exec(b"print('__belay_r' in globals())", timeout=self.timeout, on_stdout=found.append)
            if b"True" not in b"".join(found):
                self.replay()


__all__ = ["CLASSIC_PIECE", "DEFAULT", "MAX_HISTORY", "Session"]
