"""Streaming a call's output to the user while taking out Belay's result frames.

A frame starts with ``\\x02`` and the connection's token (see `belay_core._board`), so it is known for
one as soon as its first bytes arrive; everything else, ``\\x02`` bytes and frame-shaped text that a
program prints included, is output and passed on as it arrives. Only the few bytes at the end of a
chunk that may begin a frame wait for the next chunk.
"""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING, Callable, Optional

from attrs import define

if TYPE_CHECKING:
    from typing import Protocol

    class TextSink(Protocol):
        """Where board output goes: any object with a ``write(str)`` method; ``flush()`` is optional."""

        def write(self, text: str, /) -> object: ...


MARK = b"\x02"
KINDS = b"ROPSX"


@define(eq=False)
class Frame:
    """A result frame: its kind, its payload and, on results that carry the time, the board's ticks."""

    kind: str
    payload: str
    ticks: Optional[int] = None
    newline: bool = True


class ResultFilter:
    """Stream board output to ``stream``, taking out the frames that carry results.

    Parameters
    ----------
    stream
        Where output goes: an object with a ``write(str)`` method (``\\r\\n`` from the board becomes
        ``\\n``; ``flush()`` is called when it has one), or ``None`` to discard output.
    remap
        Rewrites each complete output line (used to point tracebacks printed by board threads at
        host lines); a partial line that may be a traceback frame waits for its end.
    token
        The connection's frame token (bytes after ``\\x02``).

    Attributes
    ----------
    frames
        The frames found, in order.
    """

    _FRAME_START = 'File "<stdin>"'

    def __init__(
        self, stream: Optional[TextSink], remap: Optional[Callable[[str], str]] = None, token: bytes = b""
    ) -> None:
        self.stream = stream
        self._write: Optional[Callable[[str], object]] = getattr(stream, "write", None)
        self._flush: Optional[Callable[[], object]] = getattr(stream, "flush", None)
        self.remap = remap
        self.marker = MARK + token
        self.frames: list[Frame] = []
        self.pending = ""
        self.decoder: Optional[codecs.IncrementalDecoder] = None  # made on the first output
        self.held = b""
        self.tail_cr = False
        self.skip_newline = False
        self.exit_frame: Optional[Frame] = None

    def __call__(self, data: bytes) -> None:
        data = self.held + data if self.held else data
        self.held = b""
        marker = self.marker
        start = 0
        while True:
            index = data.find(marker, start)
            if index < 0:
                break
            size, frame = _frame_at(data, index + len(marker))
            if size == 0:  # not a frame: output, go on after the mark
                start = index + 1
                continue
            self._emit(data[:index])
            if size < 0:  # a frame still arriving
                self.held = data[index:]
                return
            assert frame is not None
            self._found(frame)
            self.skip_newline = not frame.newline
            data, start = data[index + len(marker) + size :], 0
        # Keep back an end of the chunk that may be the start of the marker.
        tail = data.rfind(MARK, max(0, len(data) - len(marker) + 1))
        if tail >= 0 and marker.startswith(data[tail:]):
            self.held = data[tail:]
            data = data[:tail]
        if data:
            self._emit(data)

    def _found(self, frame: Frame) -> None:
        self.frames.append(frame)
        if frame.kind == "X":
            self.exit_frame = frame

    def _emit(self, data: bytes) -> None:
        if self.skip_newline and data:
            # A frame printed in two writes (file reads) had a thread's text before its newline: the
            # first newline after the frame is the frame's.
            newline = data.find(b"\n")
            if newline >= 0:
                self.skip_newline = False
                cut = newline - 1 if data[newline - 1 : newline] == b"\r" else newline
                data = data[:cut] + data[newline + 1 :]
        if not data or self._write is None:
            return
        if self.decoder is None:
            self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        text = self.decoder.decode(data)
        if self.tail_cr:
            text = "\r" + text
        self.tail_cr = text.endswith("\r")
        if self.tail_cr:
            text = text[:-1]
        text = text.replace("\r\n", "\n")
        if self.remap is not None:
            text = self._remap(text)
        if text:
            self._write(text)
            if self._flush is not None:
                self._flush()

    def _remap(self, text: str) -> str:
        assert self.remap is not None
        lines = (self.pending + text).split("\n")
        last = lines.pop()
        stripped = last.lstrip()
        held = bool(stripped) and (stripped.startswith(self._FRAME_START) or self._FRAME_START.startswith(stripped))
        self.pending = last if held else ""
        mapped = [self.remap(line) for line in lines]
        if not held:
            mapped.append(last)
        return "\n".join(mapped)

    def finish(self) -> Optional[Frame]:
        """Flush what was held back and return the last frame found, if any."""
        held, self.held = self.held, b""
        if held.startswith(self.marker):
            size, frame = _frame_at(held, len(self.marker), final=True)
            if size > 0:
                assert frame is not None
                self._found(frame)
                held = held[len(self.marker) + size :]
                self.skip_newline = False
        self._emit(held)
        if self._write is not None and (self.decoder is not None or self.tail_cr or self.pending):
            rest = (self.decoder.decode(b"", final=True) if self.decoder else "") + ("\r" if self.tail_cr else "")
            rest += self.pending
            self.tail_cr = False
            self.pending = ""
            if rest:
                self._write(rest)
                if self._flush is not None:
                    self._flush()
        return self.frames[-1] if self.frames else None


def _frame_at(data: bytes, at: int, final: bool = False) -> tuple[int, Optional[Frame]]:
    """Parse the frame whose kind letter is at ``data[at]``; ``final``: no more bytes will come.

    Returns
    -------
    tuple
        ``(size, frame)``: the bytes the frame takes from ``at`` on (its newline included) and the
        frame; ``(-1, None)`` when more bytes are needed to tell; ``(0, None)`` when it is not a frame.
    """
    end = len(data)
    if at >= end:
        return (0 if final else -1), None
    if data[at] not in KINDS:
        return 0, None
    i = at + 1
    while i < end and 48 <= data[i] <= 57:
        i += 1
    if i == end:
        return -1, None
    if i == at + 1:
        return 0, None
    length = int(data[at + 1 : i])
    ticks: Optional[int] = None
    if data[i] == 64:  # "@": the board's clock
        j = i + 1
        while j < end and 48 <= data[j] <= 57:
            j += 1
        if j == end:
            return -1, None
        if j == i + 1:
            return 0, None
        ticks = int(data[i + 1 : j])
        i = j
    if data[i] != 58:  # ":"
        return 0, None
    # The length counts characters: take ``length`` of them, then the newline.
    body = data[i + 1 :]
    if len(body) < length:  # a character is at least a byte: not all here yet
        return -1, None
    head = body[:length]
    if head.isascii():  # the common case: a repr is ASCII, one byte a character
        payload, used = head.decode("ascii"), length
    else:
        text = body.decode("utf-8", errors="ignore")
        if len(text) < length:
            return -1, None
        payload = text[:length]
        used = len(payload.encode("utf-8"))
    after = body[used:]
    if after[:1] == b"\r":
        if len(after) < 2 and not final:
            return -1, None
        newline = 2 if after[1:2] == b"\n" else 0
    elif after[:1] == b"\n":
        newline = 1
    elif not after and not final:
        return -1, None
    else:
        newline = 0  # a frame printed in two writes with a thread's text before its newline
    return i + 1 + used + newline - at, Frame(chr(data[at]), payload, ticks, newline=bool(newline) or final)
