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
        frame = _parse_frame(held) if held else None
        if held and frame is None:
            self._emit(held)
        if self.stream is not None:
            rest = self.decoder.decode(b"", final=True) + ("\r" if self.tail_cr else "") + self.pending
            self.tail_cr = False
            self.pending = ""
            if rest:
                self.stream.write(rest)
                self.stream.flush()
        return frame


def _parse_frame(held: bytes) -> Optional[tuple[str, str]]:
    text = held.decode("utf-8", errors="replace")[1:]
    if text.endswith("\n"):  # print's newline flushes line-buffered consoles
        text = text[:-2] if text.endswith("\r\n") else text[:-1]
    if not text or text[0] not in KINDS:
        return None
    length, sep, payload = text[1:].partition(":")
    if sep and length.isdigit() and len(payload) == int(length):
        return text[0], payload
    return None
