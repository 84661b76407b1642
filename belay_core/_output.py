"""Streaming a call's output to the user while holding back its result frame."""

from __future__ import annotations

import codecs
from typing import Optional, TextIO

MARK = b"\x02"
KINDS = "ROPS"


class ResultFilter:
    """Stream board output to ``stream``, keeping back anything from the last frame mark on.

    Parameters
    ----------
    stream
        A text stream (``\\r\\n`` from the board becomes ``\\n``), or ``None`` to discard output.
    """

    def __init__(self, stream: Optional[TextIO]) -> None:
        self.stream = stream
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
        if text:
            self.stream.write(text)
            self.stream.flush()

    def finish(self) -> Optional[tuple[str, str]]:
        """Return ``(kind, payload)`` of the frame the output ended with, if any; flush the rest."""
        held, self.held = self.held, b""
        frame = _parse_frame(held) if held else None
        if held and frame is None:
            self._emit(held)
        if self.stream is not None:
            rest = self.decoder.decode(b"", final=True) + ("\r" if self.tail_cr else "")
            self.tail_cr = False
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
