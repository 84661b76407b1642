r"""Line ends of the ``unix`` board: the host's code and the port's output made to look like a board's.

Two differences between the unix port on pipes and a board on a serial line are fixed here, in the relay
between them (`belay_emulator.boards.unix`):

Code with ``\r\n`` line ends
    The port's ``mp_hal_stdin_rx_chr`` turns every ``\n`` it reads into ``\r``, so ``\r\n`` reaches the
    REPL as ``\r\r``: two newlines (line numbers double, a triple-quoted string gets a blank line, an
    empty continuation line ends a block). A board's lexer takes ``\r\n`` as one newline. So a ``\n``
    right after a ``\r`` is dropped while the REPL reads it (raw REPL, raw-paste, paste mode, the
    friendly prompt), never while a program runs: what a program reads from ``sys.stdin`` arrives
    unchanged, as on a board.

Cooked output
    A board prints program output through ``mp_hal_stdout_tx_strn_cooked``, which sends every ``\n``
    as ``\r\n`` (``print("a\r\nb")`` arrives as ``a\r\r\nb\r\n``); its protocol text (banners, ``OK``,
    ``\x04``, prompts, echo) goes out as it is. The port prints everything raw, with ``\r\n`` in its
    protocol text and a bare ``\n`` in program output. So the output of a program (between ``OK`` and
    the last ``\x04`` of a raw-REPL answer, and from the echo of Enter to the next prompt in the friendly
    REPL) has every ``\n`` cooked; all other output keeps its bytes, a lone ``\n`` becoming ``\r\n``.

`Lines` follows both directions of the line. It reads the host's bytes as the port's REPL will: which
mode, what the current raw line holds, where code ends and a program starts. Each exchange it sees
start (a command, a raw paste, an Enter, a banner, a reset) is queued, and the port's output is matched
against the queue in order, so it knows which output is a program's. The model assumes what the
protocol asks of a host: after sending code, wait for its answer before sending more REPL input
(bytes sent meanwhile are a program's stdin, passed unchanged), except Ctrl-C, after which the REPL
reads again.

Raw-paste flow control survives the dropped bytes. The port grants a window of 128 bytes (``\x01``) for
each 128 bytes it reads, after two at the start; the relay grants one more for each 128 bytes it dropped
(``E`` grants for ``D`` dropped bytes, ``D - 128 E <= 127``). A host that has used all ``256 + 128 (A + E)``
bytes of credit after ``A`` grants of the port has given the port ``256 + 128 (A + E) - D >= 128 A + 129``
bytes: enough for the port's next grant, so the host never waits forever, and the port never has more
than the two windows of a board unread.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Optional

from attrs import define, field

FRIENDLY, RAW = 0, 1
"""MicroPython's ``pyexec_mode_kind`` values."""

WINDOW = 128
"""The unix port's raw-paste window."""

SOFT_REBOOT = b"MPY: soft reboot\n"
"""The relay's own line (it ends with ``\n`` as the port's output does) when a port process ends."""

# Input phases: what reads the host's next byte.
RAW_CODE = "raw code"
RAW_PASTE = "raw paste"
PASTE = "paste"
LINE = "line"
RUN = "run"

# Output states.
WAIT = "wait"  # for the first marker of the exchange at the head of the queue (or nothing expected)
BOOT = "boot"  # a new port process prints its banner
HEADER = "header"  # the raw-paste answer's window size and first grant
RECEIVE = "receive"  # the port reads a raw paste (its output is flow control)
OUT = "out"  # a raw-REPL program's stdout part
ERR = "err"  # its stderr part
RESULT = "result"  # friendly REPL: from the echo of Enter to the next prompt

_RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
_FRIENDLY_PROMPT = b">>> "
_PROMPTS = (_FRIENDLY_PROMPT, b"... ", b"=== ")
_LONE_LF = re.compile(rb"(?<!\r)\n")
_RAW_SPECIAL = re.compile(rb"[\x01\x02\x04]")
_TAIL = max(len(_RAW_BANNER), len(SOFT_REBOOT)) - 1
"""Output bytes kept from one piece to the next, so a marker split between pieces is still found."""


def to_crlf(data: bytes, after_cr: bool) -> bytes:
    r"""Turn each lone ``\n`` of ``data`` into ``\r\n``.

    Parameters
    ----------
    data
        A piece of the port's output.
    after_cr
        Whether the output before it ended with ``\r`` (then a leading ``\n`` is kept as is).

    Returns
    -------
    bytes
        The piece with a board's line ends for protocol text.
    """
    if b"\n" not in data:
        return data
    out = _LONE_LF.sub(b"\r\n", data)
    if after_cr and data[:1] == b"\n":
        out = out[1:]
    return out


def cook(data: bytes) -> bytes:
    r"""What ``mp_hal_stdout_tx_strn_cooked`` sends for ``data``: every ``\n`` as ``\r\n``.

    Examples
    --------
    >>> cook(b"a\r\nb\n")
    b'a\r\r\nb\r\n'
    """
    return data.replace(b"\n", b"\r\n")


@define
class Exchange:
    """One exchange the host started, whose answer the output is matched against."""

    kind: str
    """``exec``, ``paste``, ``enter``, ``banner`` or ``reset``."""
    serial: int = 0
    """Number of a raw-REPL program (``exec``, ``paste``), to tell the input side when it ended."""
    marker: bytes = b""
    """For ``banner``: the bytes that end it."""


@define
class Lines:
    r"""The host's bytes and the port's output, followed to give both a board's line ends.

    The relay calls `feed_in` with the host's bytes (``\x03`` excepted: `ctrl_c` for each), `feed_out`
    with the port's output, `child_exited` when a port process ends (before writing `SOFT_REBOOT`), all
    under one lock.
    """

    # Input side.
    mode: int = FRIENDLY
    phase: str = LINE
    line_length: int = 0
    line_head: bytes = b""
    after_cr: bool = False
    serial: int = 0
    running: int = 0
    """Serial of the program the `RUN` phase waits for."""
    paste: int = 0
    """Serial of the raw paste being received, 0 when none."""
    dropped: int = 0
    granted: int = 0
    """Extra windows granted for the current paste's dropped bytes."""
    owed: int = 0
    """Extra windows due but not yet sent (the port's answer to the request has not been seen)."""

    # Output side.
    queue: deque = field(factory=deque)
    state: str = BOOT
    tail: bytes = b""
    header_left: int = 0
    out_after_cr: bool = False
    header_seen: int = 0
    """Serial of the last raw paste whose answer went out (its extra windows may go out at once)."""
    closed: int = 0
    """Serial of the last raw paste the port ended (no more windows for it)."""
    reboots: int = 0
    """`SOFT_REBOOT` lines written by the relay and not yet seen in the output."""

    # ------------------------------------------------------------------------------------------------
    # Host to port

    def feed_in(self, data: bytes) -> tuple[bytes, int]:
        r"""Take host bytes (no ``\x03``); return what to send to the port and the windows to grant now.

        Parameters
        ----------
        data
            Bytes from the host.

        Returns
        -------
        tuple of (bytes, int)
            The bytes for the port, and how many ``\x01`` to send the host before them.
        """
        out = bytearray()
        start = 0
        while start < len(data):
            phase = self.phase
            if phase == RUN:
                out += data[start:]
                break
            if phase == LINE:
                start = self._line_byte(data, start, out)
                continue
            if phase == RAW_CODE:
                match = _RAW_SPECIAL.search(data, start)
                end = len(data) if match is None else match.start()
            else:
                end = data.find(b"\x04", start)
                end = len(data) if end < 0 else end
            kept, dropped = self._collapse(data[start:end])
            out += kept
            if phase == RAW_CODE:
                self.line_length += len(kept)
                if len(self.line_head) < 2:
                    self.line_head = (self.line_head + kept)[:2]
            elif phase == RAW_PASTE:
                self._count_drops(dropped)
            if end == len(data):
                break
            self._control(data[end])
            out.append(data[end])
            start = end + 1
        grant = 0
        if self.owed and self.header_seen == self.paste:
            grant, self.owed = self.owed, 0
        return bytes(out), grant

    def ctrl_c(self) -> None:
        r"""Note a ``\x03`` from the host (sent to the port or turned into ``SIGINT``)."""
        self.after_cr = False
        if self.phase in (RAW_CODE, RAW_PASTE, RUN):
            self.phase = RAW_CODE if self.mode == RAW else LINE
            self.paste = 0
        elif self.phase == PASTE:
            self.phase = LINE
        self._new_line()

    def _collapse(self, piece: bytes) -> tuple[bytes, int]:
        r"""Drop each ``\n`` that follows a ``\r`` (also across pieces); return the rest and the count."""
        dropped = 0
        if self.after_cr and piece[:1] == b"\n":
            piece = piece[1:]
            dropped = 1
        if not piece:
            self.after_cr = self.after_cr and not dropped
            return b"", dropped
        kept = piece.replace(b"\r\n", b"\r")
        self.after_cr = kept[-1:] == b"\r"
        return kept, dropped + len(piece) - len(kept)

    def _count_drops(self, dropped: int) -> None:
        if not dropped or self.closed == self.paste:
            return
        self.dropped += dropped
        due = self.dropped // WINDOW - self.granted
        if due > 0:
            self.granted += due
            self.owed += due

    def _new_line(self) -> None:
        self.line_length = 0
        self.line_head = b""

    def _control(self, byte: int) -> None:
        r"""A ``\x01``, ``\x02`` or ``\x04`` read by the raw REPL, or ``\x04`` ending a paste."""
        self.after_cr = False
        if self.phase == RAW_PASTE:  # \x04: the paste is complete, the program runs
            self.phase, self.running, self.paste = RUN, self.paste, 0
        elif self.phase == PASTE:  # \x04: paste mode ends, the code runs and the prompt follows
            self.queue.append(Exchange("enter"))
            self.phase = LINE
        elif byte == 0x01:
            if self.line_length == 2 and self.line_head == b"\x05A":
                self.serial += 1
                self.paste, self.dropped, self.granted, self.owed = self.serial, 0, 0, 0
                self.queue.append(Exchange("paste", self.serial))
                self.phase = RAW_PASTE
            else:
                self.queue.append(Exchange("banner", marker=_RAW_BANNER))
        elif byte == 0x02:
            self.mode, self.phase = FRIENDLY, LINE
            self.queue.append(Exchange("banner", marker=_FRIENDLY_PROMPT))
        elif self.line_length == 0:  # \x04 on an empty line: soft reset (the port's process ends)
            self.queue.append(Exchange("reset"))
        else:
            self.serial += 1
            self.running = self.serial
            self.queue.append(Exchange("exec", self.serial))
            self.phase = RUN
        self._new_line()

    def _line_byte(self, data: bytes, index: int, out: bytearray) -> int:
        """One byte read by the friendly REPL's line editor; return the next index."""
        byte = data[index]
        after_cr, self.after_cr = self.after_cr, byte == 0x0D
        if byte == 0x0A and after_cr:
            return index + 1
        out.append(byte)
        empty = self.line_length == 0
        if byte == 0x0D:
            self.queue.append(Exchange("enter"))
            self._new_line()
        elif byte == 0x01 and empty:
            self.mode, self.phase = RAW, RAW_CODE
            self.queue.append(Exchange("banner", marker=_RAW_BANNER))
        elif byte == 0x02 and empty:
            self.queue.append(Exchange("banner", marker=_FRIENDLY_PROMPT))
        elif byte == 0x04 and empty:
            self.queue.append(Exchange("reset"))
        elif byte == 0x05 and empty:
            self.phase = PASTE
        elif byte in (0x08, 0x7F):
            self.line_length = max(0, self.line_length - 1)
        elif byte >= 0x20 or byte in (0x09, 0x1B):
            self.line_length += 1
        return index + 1

    def child_exited(self, mode: int) -> None:
        """A port process ended; the next one starts in REPL ``mode``. Call before writing `SOFT_REBOOT`.

        Parameters
        ----------
        mode
            `FRIENDLY` or `RAW`.
        """
        self.reboots += 1
        if any(exchange.kind == "reset" for exchange in self.queue):
            return  # the reset the host asked for: what it sent after it is read by the next process
        self.mode = mode
        self.phase = RAW_CODE if mode == RAW else LINE
        self.paste = 0
        self.after_cr = False
        self._new_line()

    # ------------------------------------------------------------------------------------------------
    # Port to host

    def feed_out(self, data: bytes) -> bytes:
        r"""Turn a piece of the port's output into what a board would have sent.

        Parameters
        ----------
        data
            Output as read from the port's pipe (relay lines included).

        Returns
        -------
        bytes
            The bytes for the host.
        """
        out = bytearray()
        start = 0
        while start < len(data):
            if self.state == HEADER:
                take = min(self.header_left, len(data) - start)
                out += data[start : start + take]
                start += take
                self.header_left -= take
                if self.header_left == 0:
                    self._after_header(out)
                continue
            markers = self._markers()
            end, marker = self._search(data, start, markers)
            stop = len(data) if end < 0 else end
            piece = data[start:stop]
            out += cook(piece) if self.state in (OUT, ERR, RESULT) else to_crlf(piece, self.out_after_cr)
            if piece:
                self.out_after_cr = piece[-1:] == b"\r"
            start = stop
            if marker is None:
                self.tail = (self.tail + piece)[-_TAIL:]
                break
            self.tail = b""
            self._on_marker(marker, out)
        return bytes(out)

    def _markers(self) -> tuple[bytes, ...]:
        found: tuple[bytes, ...] = (SOFT_REBOOT,) if self.reboots else ()
        state = self.state
        if state == BOOT:
            return (*found, _FRIENDLY_PROMPT, _RAW_BANNER)
        if state in (RECEIVE, OUT, ERR):
            return (*found, b"\x04")
        if state == RESULT:
            return (*found, *_PROMPTS)
        if not self.queue:
            return found
        head = self.queue[0]
        if head.kind == "exec":
            return (*found, b"OK")
        if head.kind == "paste":
            return (*found, b"R\x01", b"R\x00")
        if head.kind == "enter":
            return (*found, b"\r\n")
        if head.kind == "banner":
            return (*found, head.marker)
        return found

    def _search(self, data: bytes, start: int, markers: tuple[bytes, ...]) -> tuple[int, Optional[bytes]]:
        """Find the marker that ends first in ``tail + data[start:]`` (ending in ``data``); return its end."""
        window = self.tail + data[start:]
        best, found = -1, None
        for marker in markers:
            index = window.find(marker, max(0, len(self.tail) - len(marker) + 1))
            if index >= 0:
                end = index + len(marker) - len(self.tail) + start
                if best < 0 or end < best:
                    best, found = end, marker
        return best, found

    def _on_marker(self, marker: bytes, out: bytearray) -> None:
        state = self.state
        if marker == SOFT_REBOOT and self.reboots:
            self._on_reboot()
            return
        if state == BOOT:
            self.state = WAIT
        elif state == RECEIVE:
            self.closed = self.queue[0].serial
            self.owed = 0
            self.state = OUT
        elif state == OUT:
            self.state = ERR
        elif state == ERR:
            exchange = self.queue.popleft()
            self.state = WAIT
            if self.phase == RUN and self.running == exchange.serial:
                self.phase = RAW_CODE
                self._new_line()
        elif state == RESULT:
            self.queue.popleft()
            self.state = WAIT
        else:
            head = self.queue[0]
            if head.kind == "exec":
                self.state = OUT
            elif head.kind == "paste":
                if marker == b"R\x00":  # refused: the raw REPL reads on
                    self.queue.popleft()
                    if self.paste == head.serial:
                        self.phase, self.paste = RAW_CODE, 0
                        self._new_line()
                else:
                    self.state, self.header_left = HEADER, 3
            elif head.kind == "enter":
                self.state = RESULT
            else:
                self.queue.popleft()

    def _after_header(self, out: bytearray) -> None:
        """The raw-paste answer went out: the extra windows due so far follow it."""
        self.state = RECEIVE
        self.header_seen = self.queue[0].serial
        if self.owed and self.header_seen == self.paste:
            out += b"\x01" * self.owed
            self.owed = 0

    def _on_reboot(self) -> None:
        """The relay's soft-reboot line: the exchanges the old process took part in are over."""
        self.reboots -= 1
        resets = [index for index, exchange in enumerate(self.queue) if exchange.kind == "reset"]
        if resets:
            for _ in range(resets[0] + 1):
                self.queue.popleft()
        elif self.state != WAIT and self.state != BOOT and self.queue:
            self.queue.popleft()
        self.state = BOOT
