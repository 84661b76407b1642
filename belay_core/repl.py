r"""The raw-REPL protocol engine: transport-agnostic, in core.

MicroPython's raw REPL (entered with Ctrl-A) runs code sent with a closing Ctrl-D and answers
``OK`` + stdout + ``\\x04`` + stderr + ``\\x04>``. Raw-paste mode (``\\x05A\\x01``, answered ``R\\x01`` and a
window size) adds flow control, so large code is never lost on a small UART buffer.

How this engine saves round trips:

- The raw-paste request and the first window of code go out in one write. A firmware that refuses
  raw-paste (``R\\x00``) or does not know it (it resets the raw REPL line and prints the banner
  again) keeps reading that code as classic raw-REPL input, so no round trip is spent asking.
- Once the firmware's answer is known it is remembered. Raw-paste code goes as fast as the board's
  window acknowledgements allow. Classic raw-REPL code has no flow control, so it is paced: written
  in small pieces with a short wait between them (`CLASSIC_PACING`), which a small UART receive
  buffer can take even while the firmware is busy; code shorter than a piece is one write.
- Device output is handed to a consumer as it arrives.

A board thread prints whenever it likes, also between the protocol's markers. What it prints before
the prompt, or in the error part of a call that raised nothing, reaches the consumer as output
(`split_error`), so a printing thread never turns a good call into an error.
"""

from __future__ import annotations

import re
import struct
import time
from typing import Callable, Optional, Union

from belay_core.errors import ConnectionLost, DeviceTimeoutError, ProtocolError, UsageError
from belay_core.transport import Transport

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
FRIENDLY_PROMPT = b"\r\n>>> "
SOFT_REBOOT = b"soft reboot\r\n"
RAW_PASTE_REQUEST = b"\x05A\x01"
DEFAULT_WINDOW = 128
"""Raw-paste window assumed before the firmware names its own (what MicroPython boards use)."""

RECOVER_TIMEOUT = 3.0
"""Seconds the board gets to finish after Ctrl-C before the engine gives up on it."""

CLASSIC_PACING = (16, 0.003)
"""How classic raw-REPL code is written by default: ``(bytes_per_piece, seconds_between)``.

Firmware without raw-paste gets code with no flow control. The micro:bit's (MicroPython 1.9.2) UART
receive buffer holds 63 bytes and drops what arrives while it is full, which happens when the firmware
is busy (most just after a soft reset): unpaced, 1.5 KB of code sent right after a soft reset lost bytes
in 18 of 40 trials on qemu's own pseudo-terminal, and the original belay's 256-byte pieces 10 ms apart
in 1 of 40 (20 of 40 with the machine loaded). Pieces of 16 bytes (a quarter of the buffer, so three
fit while the firmware stalls) 3 ms apart lost nothing in 800 such trials, idle and with two or four
busy processes competing for the 2 cores, while 16 bytes every 2 ms (8 KB/s) lost bytes in 5 of 140
loaded trials: the default keeps a third below that rate. It writes about 5 KB/s (1.6 KB of start-up code in
0.3 s), above the 3.8 KB/s of the relay that paces ``emu:microbit``, so that board is no slower. See
docs/protocol.md for all measurements.
"""

Pacing = Union[tuple[int, float], bool, None]
"""A pacing setting: ``(bytes_per_piece, seconds_between)``; ``None`` (or ``True``) for `CLASSIC_PACING`;
``False`` for none (classic code in one write, for a line that paces itself)."""

OutputConsumer = Callable[[bytes], None]

TRACEBACK = b"Traceback (most recent call last):"
THREAD_TRACEBACK = b"Unhandled exception in thread started by "
_EXCEPTION_LINE = re.compile(
    rb"^[A-Za-z_][A-Za-z0-9_.]*(?:Error|Exception|Interrupt|Exit|Iteration)(?:: [^\r\n]*)?\r?$", re.MULTILINE
)
"""A traceback-less exception line (MicroPython prints one when it had no memory for a traceback)."""


def split_error(part: bytes) -> tuple[bytes, bytes]:
    """Split the error part of a raw-REPL answer into what board threads printed and the traceback.

    The call's own traceback starts at the first ``Traceback`` header that is not a thread's (a
    thread's follows ``Unhandled exception in thread started by``); without one, at the first
    exception line of a traceback-less error. Everything before it, or everything when the call
    raised nothing, was printed by board threads.

    Parameters
    ----------
    part
        The bytes between the two ``\\x04`` of a raw-REPL answer.

    Returns
    -------
    tuple of bytes
        ``(thread_output, traceback)``; ``traceback`` is empty when the call raised nothing.

    Examples
    --------
    >>> split_error(b"tick 1\\r\\nTraceback (most recent call last):\\r\\nValueError: x\\r\\n")
    (b'tick 1\\r\\n', b'Traceback (most recent call last):\\r\\nValueError: x\\r\\n')
    >>> split_error(b"tick 2\\r\\n")
    (b'tick 2\\r\\n', b'')
    """
    start = 0
    while True:
        index = part.find(TRACEBACK, start)
        if index < 0:
            break
        line_start = part.rfind(b"\n", 0, max(index - 1, 0)) + 1
        if not part.startswith(THREAD_TRACEBACK, line_start):
            return part[:index], part[index:]
        start = index + len(TRACEBACK)
    if THREAD_TRACEBACK not in part:
        match = _EXCEPTION_LINE.search(part)
        if match:
            return part[: match.start()], part[match.start() :]
    return part, b""


MAX_HELD = 1 << 20
"""Most bytes held while looking for a marker that is not streamed on (a traceback, a banner): the tail is kept."""


class _Timeout(Exception):
    """A deadline passed while waiting for the board (internal)."""


class _Desync(Exception):
    """Bytes of a previous answer came before a call's acknowledgement (internal)."""

    def __init__(self, data: bytes) -> None:
        self.data = data


class _PreAck:
    """The consumer of what the board prints before acknowledging code: a board thread's text only.

    A ``\\x04`` there can only be the rest of a previous answer that ended early (a program printed
    the raw REPL's end markers), so it raises `_Desync` instead of reaching this call's output.
    """

    def __init__(self, consumer: OutputConsumer) -> None:
        self.consumer = consumer

    def __call__(self, data: bytes) -> None:
        if b"\x04" in data:
            raise _Desync(data)
        self.consumer(data)


class RawRepl:
    """Speak the raw REPL over a `Transport`.

    Parameters
    ----------
    transport
        An open transport.
    pacing
        How code is written to firmware without raw-paste, which has no flow control: pieces of
        ``bytes_per_piece`` bytes with ``seconds_between`` seconds between them, so a small UART
        receive buffer is never overrun. ``None`` (default) is `CLASSIC_PACING`; ``False`` writes the
        code in one piece, as fast as the transport takes it (for lines that pace themselves). Raw-paste
        is never paced: the board's window acknowledgements pace it. ``True`` is the default too.

    Attributes
    ----------
    raw_paste
        ``True``/``False`` once known whether the firmware does raw-paste; ``None`` before.
    pacing
        The pacing in use, ``(bytes_per_piece, seconds_between)``, or ``None`` when off.
    round_trips
        Times the engine waited for the board after writing: the cost that matters on slow lines.
    bytes_written
        Bytes written to the transport.
    soft_rebooted
        Whether the board soft-rebooted during the last `exec` (a ``sys.exit()``, or a restart).
    reset_in_call
        Whether that reboot came in the middle of the call's output (the firmware restarted while
        the code ran) rather than after its end (``sys.exit()``).
    """

    def __init__(self, transport: Transport, *, pacing: Pacing = None) -> None:
        self.transport = transport
        self.pacing = resolve_pacing(pacing)
        self.raw_paste: Optional[bool] = None
        self.window = DEFAULT_WINDOW
        self.round_trips = 0
        self.bytes_written = 0
        self._buffer = bytearray()
        self._in_raw = False
        self._dirty = True
        self._paste_open = False
        self.soft_rebooted = False
        self.reset_in_call = False

    # ------------------------------------------------------------------------------------------------
    # Bytes
    # ------------------------------------------------------------------------------------------------

    def _write(self, data: bytes, deadline: Optional[float] = None) -> None:
        """Write ``data``; a board that stops reading makes it raise `_Timeout` at ``deadline``."""
        if deadline is None:
            self.transport.write(data)
        elif not self.transport.write_within(data, max(0.0, deadline - time.monotonic())):
            raise _Timeout
        self.bytes_written += len(data)

    def _write_paced(self, data: bytes, deadline: Optional[float]) -> None:
        """Write classic raw-REPL input in `pacing` pieces, waiting between them (see `CLASSIC_PACING`)."""
        if self.pacing is None or len(data) <= self.pacing[0]:
            self._write(data, deadline)
            return
        size, wait = self.pacing
        for start in range(0, len(data), size):
            if start:
                time.sleep(wait)
            self._write(data[start : start + size], deadline)

    def _fill(self, deadline: Optional[float]) -> None:
        if deadline is None:
            timeout = None
        else:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                raise _Timeout
        chunk = self.transport.read(65536, timeout)
        if not chunk:
            raise _Timeout
        self._buffer += chunk

    def _read_until(self, marker: bytes, deadline: Optional[float], consumer: Optional[OutputConsumer] = None) -> bytes:
        """Read up to and including ``marker``; return what came before it.

        With ``consumer``, what comes before the marker is handed over as it arrives and an empty
        bytes is returned.
        """
        start = 0
        while True:
            index = self._buffer.find(marker, start)
            if index >= 0:
                before = bytes(self._buffer[:index])
                del self._buffer[: index + len(marker)]
                if consumer is not None:
                    if before:
                        consumer(before)
                    return b""
                return before
            if consumer is not None:
                keep = len(marker) - 1
                ready = len(self._buffer) - keep
                if ready > 0:
                    consumer(bytes(self._buffer[:ready]))
                    del self._buffer[:ready]
                start = 0
            else:
                if len(self._buffer) > MAX_HELD:  # endless text before the marker: keep its tail only
                    del self._buffer[: len(self._buffer) - MAX_HELD]
                start = max(0, len(self._buffer) - len(marker) + 1)
            self._fill(deadline)

    def _read_exact(self, size: int, deadline: Optional[float]) -> bytes:
        while len(self._buffer) < size:
            self._fill(deadline)
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _discard_input(self) -> None:
        """Drop what the line holds: at most `MAX_HELD` bytes (a board that never stops talking is not waited out)."""
        self._buffer.clear()
        dropped = 0
        while dropped < MAX_HELD:
            chunk = self.transport.read(65536, 0)
            if not chunk:
                break
            dropped += len(chunk)

    # ------------------------------------------------------------------------------------------------
    # Modes
    # ------------------------------------------------------------------------------------------------

    def enter(self, *, soft_reset: bool = False, timeout: float = 10.0) -> None:
        """Interrupt whatever runs and enter the raw REPL, optionally with a soft reset.

        Parameters
        ----------
        soft_reset
            Soft-reset the board once in the raw REPL: a fresh heap, as after power-on.
        timeout
            Seconds to wait for the board's answers.

        Raises
        ------
        DeviceTimeoutError
            When the board does not answer like a MicroPython raw REPL.
        """
        deadline = time.monotonic() + timeout
        self._discard_input()
        self._paste_open = False
        # Without a reset, the raw-paste question rides along with entering the raw REPL. After a
        # soft reset it is asked separately: bytes sent while a board reboots may be lost.
        probe = self.raw_paste is None and not soft_reset
        try:
            self._write(b"\r\x03\x03\x01" + (b"\x04" if soft_reset else RAW_PASTE_REQUEST if probe else b""), deadline)
            self.round_trips += 1
            self._read_until(RAW_BANNER, deadline)
            if soft_reset:
                self._read_until(SOFT_REBOOT, deadline)
                self._read_until(RAW_BANNER, deadline)
                if self.raw_paste is None:
                    self._write(RAW_PASTE_REQUEST, deadline)
                    self.round_trips += 1
                    probe = True
            if probe:
                self._read_probe_answer(deadline)
        except _Timeout:
            seen = bytes(self._buffer[-200:])
            raise DeviceTimeoutError(
                f"{self.transport.describe()} did not answer like a MicroPython raw REPL within {timeout:g} s "
                f"(received {seen!r}). Is a MicroPython board on this line, and is no other program using it?"
            ) from None
        self._in_raw = True
        self._dirty = False

    def _read_probe_answer(self, deadline: Optional[float]) -> None:
        """Read the answer to a raw-paste request sent on an empty raw-REPL line."""
        answer = self._read_exact(2, deadline)
        if answer == b"R\x01":
            self.raw_paste = True
            self._paste_open = True  # the board now waits for the body of a raw paste
            self.window = struct.unpack("<H", self._read_exact(2, deadline))[0]
        elif answer == b"R\x00":
            self.raw_paste = False
        elif answer == RAW_BANNER[:2]:
            # The firmware does not know raw-paste: the Ctrl-A in the request reset its raw REPL line
            # and it printed the banner again.
            self._read_until(RAW_BANNER[2:], deadline)
            self.raw_paste = False
        else:
            raise ProtocolError(f"unexpected answer to the raw-paste request: {answer + bytes(self._buffer[:100])!r}")

    def exit(self) -> None:
        """Leave the raw REPL for the friendly REPL (Ctrl-B); harmless if the line is gone."""
        if self._in_raw:
            self._in_raw = False
            try:
                self._write(b"\x02", time.monotonic() + RECOVER_TIMEOUT)
            except (ConnectionLost, _Timeout):
                pass

    def soft_reset(self, timeout: float = 10.0) -> None:
        """Soft-reset the board and come back to the raw REPL."""
        self.enter(soft_reset=True, timeout=timeout)

    # ------------------------------------------------------------------------------------------------
    # Running code
    # ------------------------------------------------------------------------------------------------

    def exec(
        self,
        code: bytes,
        *,
        timeout: Optional[float] = None,
        on_stdout: Optional[OutputConsumer] = None,
    ) -> bytes:
        """Run ``code`` on the board and wait for it to finish.

        Parameters
        ----------
        code
            MicroPython source.
        timeout
            Seconds the whole call may take; ``None`` waits forever. On expiry the board is
            interrupted with Ctrl-C, the line is brought back to the raw REPL and
            `DeviceTimeoutError` is raised.
        on_stdout
            Called with each piece of the board's output as it arrives.

        Returns
        -------
        bytes
            The board's stderr part: empty on success, else the traceback.

        Raises
        ------
        DeviceTimeoutError, ConnectionLost, ProtocolError
        KeyboardInterrupt
            Re-raised after the board was interrupted and the line recovered.
        """
        if self._dirty:
            self.enter(timeout=10.0 if timeout is None else max(timeout, 1.0))
        if b"\r\n" in code:
            code = code.replace(b"\r\n", b"\n")  # the board's lexer reads both as one newline
        deadline = None if timeout is None else time.monotonic() + timeout
        self._dirty = True  # until the board's prompt is read back
        self.soft_rebooted = False
        self.reset_in_call = False
        try:
            consumer = on_stdout or _drop
            try:
                self._send(code, deadline, _PreAck(consumer))
            except _Desync as desync:
                self._resync()
                raise ProtocolError(
                    "the board sent the raw REPL's end marker (\\x04) before acknowledging this call's code "
                    f"({desync.data[-80:]!r}): the rest of an earlier answer (a program that printed the markers "
                    "\\x04 ... \\x04> itself), or an answer in another mode. Belay interrupted the board and "
                    "re-entered the raw REPL; this call may or may not have run"
                ) from None
            self.round_trips += 1
            error, before_prompt = self._read_answer(deadline, consumer)
            printed, stderr = split_error(error)
            if printed:
                consumer(printed)
            if before_prompt:
                consumer(before_prompt)
        except _Timeout:
            recovered = self._recover()
            raise DeviceTimeoutError(
                f"the board did not finish within {timeout:g} s; it was interrupted with Ctrl-C"
                + ("" if recovered else " but did not answer; the next call re-enters the raw REPL")
            ) from None
        except KeyboardInterrupt:
            self._recover()
            raise
        if not self.soft_rebooted or self._in_raw:
            self._dirty = False
        return stderr

    def _read_answer(self, deadline: Optional[float], consumer: OutputConsumer) -> tuple[bytes, bytes]:
        r"""Read the answer to code the board accepted: stdout ``\x04`` error part ``\x04`` ``>``.

        A program may print ``\x04`` itself, so the first ``\x04`` is only a candidate for the end of
        stdout. It is the end when what follows the next ``\x04`` is the prompt (with, at most, a board
        thread's text before it) or a soft reboot; when another ``\x04`` or a traceback follows instead,
        the candidate and what came after it were printed by the program, and the next ``\x04`` is the
        candidate. Output before the first candidate streams as it arrives; after a program's ``\x04``,
        its output waits until the answer's structure is known.

        Returns
        -------
        tuple of bytes
            The error part (thread text and the call's traceback, see `split_error`), and what a board
            thread printed after it, before the prompt.
        """
        if self._read_stdout(deadline, consumer):
            return b"", b""
        while True:
            error = self._read_until(b"\x04", deadline)
            verdict, before_prompt = self._after_error_part(deadline)
            if verdict != "shift":
                return error, before_prompt
            consumer(b"\x04" + error)

    def _read_stdout(self, deadline: Optional[float], consumer: OutputConsumer) -> bool:
        """Stream a call's stdout to ``consumer`` up to the first ``\\x04`` (consumed).

        Returns ``True`` when the board restarted instead, in the middle of the call (a firmware crash
        that the board survives as a soft reboot): its soft-reboot line and banner came before any
        ``\\x04``. That text is then read through to the prompt and is not output; ``reset_in_call``
        and ``soft_rebooted`` are set. A program that prints such a line itself is told apart by the
        ``\\x04`` that follows it before any banner.
        """
        buffer = self._buffer
        while True:
            eot = buffer.find(b"\x04")
            reboot = buffer.find(SOFT_REBOOT, 0, eot if eot >= 0 else len(buffer))
            if reboot >= 0:
                start = reboot - 5 if buffer[max(0, reboot - 5) : reboot] == b"MPY: " else reboot
                if start > 0:
                    consumer(bytes(buffer[:start]))
                    del buffer[:start]
                while True:  # a banner before any \x04: the board restarted
                    eot = buffer.find(b"\x04")
                    banner = [i for i in (buffer.find(RAW_BANNER), buffer.find(FRIENDLY_PROMPT)) if i >= 0]
                    if banner and (eot < 0 or min(banner) < eot):
                        self._after_reboot(deadline)
                        self.reset_in_call = True
                        return True
                    if eot >= 0:  # printed by the program: output like the rest
                        consumer(bytes(buffer[:eot]))
                        del buffer[: eot + 1]
                        return False
                    self._fill(deadline)
            if eot >= 0:
                if eot:
                    consumer(bytes(buffer[:eot]))
                del buffer[: eot + 1]
                return False
            keep = _marker_prefix(buffer, (b"MPY: " + SOFT_REBOOT, SOFT_REBOOT))
            ready = len(buffer) - keep
            if ready > 0:
                consumer(bytes(buffer[:ready]))
                del buffer[:ready]
            self._fill(deadline)

    def _after_error_part(self, deadline: Optional[float]) -> tuple[str, bytes]:
        """Decide what the ``\x04`` just read ended: ``"prompt"``, ``"reboot"`` or ``"shift"`` (see `_read_answer`).

        Returns the verdict and, for ``"prompt"``, what a board thread printed before the prompt.
        """
        buffer = self._buffer
        while not buffer:
            self._fill(deadline)
        first = bytes(buffer[:1])
        if first == b">":
            del buffer[:1]
            return "prompt", b""
        if first == b"\x04":
            return "shift", b""
        if first in (b"M", b"s") and self._soft_reboot_follows(deadline):
            self._after_reboot(deadline)
            return "reboot", b""
        # Text up to the next '>' or '\x04': a board thread's (then the prompt follows), or the start of
        # the real error part after a program's \x04 (a traceback, or text ending in \x04).
        start = 0
        while True:
            ends = [i for i in (buffer.find(b">", start), buffer.find(b"\x04", start)) if i >= 0]
            if ends:
                end = min(ends)
                break
            start = len(buffer)
            self._fill(deadline)
        text = bytes(buffer[:end])
        if buffer[end : end + 1] == b"\x04" or split_error(text)[1]:
            return "shift", b""
        del buffer[: end + 1]
        return "prompt", text

    def _soft_reboot_follows(self, deadline: Optional[float]) -> bool:
        """Whether the bytes waiting begin with the firmware's soft-reboot line (reading until it can tell)."""
        for line in (b"MPY: " + SOFT_REBOOT, SOFT_REBOOT):
            while True:
                have = bytes(self._buffer[: len(line)])
                if not line.startswith(have):
                    break
                if len(have) == len(line):
                    return True
                self._fill(deadline)
        return False

    def _after_reboot(self, deadline: Optional[float]) -> None:
        """Read a soft reboot through to the prompt the firmware gives after it (raw or friendly)."""
        self.soft_rebooted = True
        self._paste_open = False
        later = time.monotonic() + RECOVER_TIMEOUT + 7.0
        deadline = later if deadline is None else max(deadline, later)
        while True:
            raw = self._buffer.find(RAW_BANNER)
            friendly = self._buffer.find(FRIENDLY_PROMPT)
            found = [i for i in (raw, friendly) if i >= 0]
            if found:
                break
            self._fill(deadline)
        if raw >= 0 and (friendly < 0 or raw < friendly):
            del self._buffer[: raw + len(RAW_BANNER)]
            self._in_raw = True
        else:
            del self._buffer[: friendly + len(FRIENDLY_PROMPT)]
            self._in_raw = False
            self._dirty = True

    def _resync(self) -> None:
        """Interrupt the board and enter the raw REPL afresh (after an answer that could not be trusted)."""
        self._dirty = True
        try:
            self.enter()
        except (DeviceTimeoutError, ProtocolError):
            pass  # still dirty: the next call tries again

    def _send(self, code: bytes, deadline: Optional[float], consumer: OutputConsumer) -> None:
        """Send ``code``; output the board prints meanwhile (a board thread's) goes to ``consumer``."""
        if self._paste_open:  # the raw-paste request went out with entering the raw REPL
            self._paste_open = False
            self._paste_rest(code, self.window, deadline, consumer)
            return
        if self.raw_paste is None:
            self._write(RAW_PASTE_REQUEST, deadline)
            self._read_probe_answer(deadline)
            self._send(code, deadline, consumer)
            return
        if not self.raw_paste:
            self._write_paced(code + b"\x04", deadline)
            self._acknowledged(b"OK", deadline, consumer)
            return
        # Raw-paste request and the first window of code in one write.
        first = code[: self.window]
        rest = code[len(first) :]
        self._write(RAW_PASTE_REQUEST + first + (b"" if rest else b"\x04"), deadline)
        self._acknowledged(b"R\x01", deadline, consumer)
        # The window size follows in a write of its own, so a board thread may print in between; the
        # size never changes, so what comes before the known two bytes is the thread's.
        self._read_until(struct.pack("<H", self.window), deadline, consumer)
        self._paste_rest(rest, self.window - len(first), deadline, consumer, finished=not rest)

    def _acknowledged(self, ack: bytes, deadline: Optional[float], consumer: OutputConsumer) -> None:
        """Read up to the board's acknowledgement of code; what came before it goes to ``consumer``.

        That can only be a board thread's text, or the rest of an earlier answer that a program cut
        short by printing ``\\x04\\x04>`` itself: the whole of it is looked at before any is passed on, so
        a ``\\x04`` among it raises `_Desync` and nothing of the earlier call reaches this one's output.
        """
        before = self._read_until(ack, deadline)
        if before:
            consumer(before)

    def _paste_rest(
        self,
        rest: bytes,
        allowance: int,
        deadline: Optional[float],
        consumer: OutputConsumer,
        finished: bool = False,
    ) -> None:
        """Send (the rest of) a raw-paste body within the board's window, then wait for its end ack."""
        sent = 0
        while True:
            if not finished and allowance > 0 and not self._buffer:
                if not rest:
                    self._write(b"\x04", deadline)
                    finished = True
                    continue
                size = min(allowance, len(rest) - sent)
                end = sent + size
                self._write(rest[sent:end] + (b"\x04" if end == len(rest) else b""), deadline)
                allowance -= size
                sent = end
                finished = end == len(rest)
                continue
            if not self._buffer:
                self._fill(deadline)
            byte = self._buffer[:1]
            del self._buffer[:1]
            if byte == b"\x01":
                allowance += self.window
            elif byte == b"\x04":
                if not finished:  # the board ended the paste early (it ran out of memory, or was reset)
                    self._write(b"\x04", deadline)
                return
            else:  # printed meanwhile by a board thread
                consumer(bytes(byte))

    def _recover(self) -> bool:
        """Interrupt the board and read it back to the raw-REPL prompt; return whether that worked."""
        deadline = time.monotonic() + RECOVER_TIMEOUT
        try:
            self._write(b"\x03", deadline)
            # The interrupted code ends like any other: stdout \x04 traceback \x04 >.
            self._read_until(b"\x04", deadline)
            self._read_until(b"\x04", deadline)
            self._read_until(b">", deadline)
        except (_Timeout, ConnectionLost):
            self._dirty = True
            return False
        except KeyboardInterrupt:
            self._dirty = True
            raise
        self._dirty = False
        return True


def _marker_prefix(buffer: bytearray, markers: tuple[bytes, ...]) -> int:
    """How many bytes at the end of ``buffer`` may be the start of one of ``markers`` (kept for the next read)."""
    for size in range(min(len(buffer), max(len(m) for m in markers) - 1), 0, -1):
        tail = bytes(buffer[-size:])
        if any(m.startswith(tail) for m in markers):
            return size
    return 0


def resolve_pacing(value: Pacing) -> Optional[tuple[int, float]]:
    """Check a `Pacing` setting and say what it means.

    Parameters
    ----------
    value
        ``(bytes_per_piece, seconds_between)``: a positive int and a finite number >= 0; ``None`` or
        ``True`` for `CLASSIC_PACING`; ``False`` for no pacing.

    Returns
    -------
    tuple or None
        ``(bytes_per_piece, seconds_between)``, or ``None`` for no pacing.

    Raises
    ------
    UsageError
        For anything else (also a `ValueError`).

    Examples
    --------
    >>> resolve_pacing((32, 0.005))
    (32, 0.005)
    >>> resolve_pacing(False) is None
    True
    """
    if value is None or value is True:
        return CLASSIC_PACING
    if value is False:
        return None
    try:
        size, wait = value
    except (TypeError, ValueError):
        raise UsageError(
            f"pacing must be (bytes_per_piece, seconds_between), None for the default or False for none, not {value!r}"
        ) from None
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise UsageError(f"pacing: bytes_per_piece must be a positive int, not {size!r}")
    if isinstance(wait, bool) or not isinstance(wait, (int, float)) or not 0 <= wait < float("inf"):
        raise UsageError(f"pacing: seconds_between must be a finite number >= 0, not {wait!r}")
    return size, float(wait)


def _drop(data: bytes) -> None:
    """Discard device output."""
