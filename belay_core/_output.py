"""Streaming a call's output to the user while holding back its result frame."""

from __future__ import annotations

import codecs
from typing import Callable, Optional, TextIO

MARK = b"\x02"
KINDS = "ROPS"


class ResultFilter:
    """Stream board output to ``stream``, keeping back anything from the last frame mark on.

    Parameters
    ----------
    stream
        A text stream (``\\r\\n`` from the board becomes ``\\n``), or ``None`` to discard output.
    remap
        Rewrites each complete output line (used to point tracebacks printed by board threads at
        host lines); a partial line that may be a traceback frame waits for its end.
    """

    _FRAME_START = 'File "<stdin>"'

    def __init__(self, stream: Optional[TextIO], remap: Optional[Callable[[str], str]] = None) -> None:
        self.stream = stream
        self.remap = remap
        self.pending = ""
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.held = b""
        self.tail_cr = False

    def __call__(self, data: bytes) -> None:
        data = self.held + data
        index = data.rfind(MARK)
        if index >= 0:
            self._emit(data[:index])
            self.held = data[index:]
        else:
            self._emit(data)
            self.held = b""

    def _emit(self, data: bytes) -> None:
        if not data or self.stream is None:
            return
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
            self.stream.write(text)
            self.stream.flush()

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

    def finish(self) -> Optional[tuple[str, str]]:
        """Return ``(kind, payload)`` of the frame the output ended with, if any; flush the rest."""
        held, self.held = self.held, b""
        frame, after = _parse_frame(held) if held else (None, b"")
        self._emit(held if frame is None else after)
        if self.stream is not None:
            rest = self.decoder.decode(b"", final=True) + ("\r" if self.tail_cr else "") + self.pending
            self.tail_cr = False
            self.pending = ""
            if rest:
                self.stream.write(rest)
                self.stream.flush()
        return frame


def _parse_frame(held: bytes) -> tuple[Optional[tuple[str, str]], bytes]:
    """Split ``held`` (from the mark on) into its frame and what a board thread printed after it.

    A frame ends with a newline (which flushes line-buffered consoles). The board's helper prints
    frame and newline in one write, so a thread's text comes after both; a frame printed in two
    writes (file reads, to spare memory) may have the thread's text before its newline, which is
    then taken to be the last one (the thread would have to print again in the moment between that
    newline and the end of the call).
    """
    text = held.decode("utf-8", errors="replace")[1:]
    if not text or text[0] not in KINDS:
        return None, b""
    length, sep, rest = text[1:].partition(":")
    if not sep or not length.isdigit() or len(rest) < int(length):
        return None, b""
    payload, after = rest[: int(length)], rest[int(length) :]
    if after.startswith(("\r\n", "\n")):
        after = after[after.index("\n") + 1 :]
    else:
        newline = after.rfind("\n")
        if newline >= 0:
            after = after[: newline - 1 if after[newline - 1 : newline] == "\r" else newline] + after[newline + 1 :]
    return (text[0], payload), after.encode()
