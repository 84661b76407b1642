"""Result frames: how a call's value travels from the board, on both sides of the line.

The board side (`EMITTER`, board code Belay defines at connect; kept small: the micro:bit's whole heap
is 9 KiB) prints a frame last, after all of the call's output::

    \\x02 TOKEN KIND LENGTH ; CRC [@ TICKS] : PAYLOAD \\n

``CRC`` is the CRC-32 of the payload's UTF-8 bytes (``binascii.crc32``), or, on firmware without it
(the micro:bit's), ``, SUM``: their sum modulo 65536. With ``LENGTH`` it turns a byte the line dropped
or changed into a `belay_core.errors.ProtocolError`, never a wrong value.
``TOKEN`` is four random letters chosen for each connection (`new_token`), so nothing a program
prints (a ``\\x02``, or text shaped like a frame) is ever taken for one: output is passed on as
printed. ``KIND`` is ``R`` (the repr of a plain value), ``O`` (``type:repr`` of any other value),
``P`` (``id:type`` of an object kept on the board for a proxy), ``S`` (a generator stopped) or ``X``
(the repr of a ``SystemExit`` code, printed just before the exit goes on to the firmware). ``TICKS``
is the board's millisecond clock when the value was ready, on results that carry the time. The frame
and its newline go out in one write, so a board thread printing meanwhile never lands inside it.
Plain values are numbers, strings, bytes, booleans, ``None`` and containers of those; when proxies
are asked for, containers stay on the board too.

The board code keeps the builtins it uses under its own names (``__belay_bp`` is ``print``, ...), so
a program that rebinds ``print``, ``repr``, ``len`` or ``type`` at its top level does not break it,
and it leaves no other names in the board's globals. Each function stays small: MicroPython runs a
function whose arguments, locals and stack fit in 11 words without allocating (a helper with many
default arguments took four times as long).

The host side: `ResultFilter` streams a call's output to the user and takes the frames out of it
(only the few bytes at the end of a chunk that may begin a frame wait for the next chunk), and
`decode` turns a frame into the host value.
"""

from __future__ import annotations

import ast
import codecs
import os
import sys
import warnings
import zlib
from typing import TYPE_CHECKING, Any, Callable, Optional

from attrs import define

from belay_core.errors import ProtocolError
from belay_core.sentinels import UNPARSABLE_RESULT

if TYPE_CHECKING:
    from typing import Protocol

    class TextSink(Protocol):
        """Where board output goes: any object with a ``write(str)`` method; ``flush()`` is optional."""

        def write(self, text: str, /) -> object: ...


EMITTER = """\
__belay_m='\\x02{token}'
__belay_o={{}}
__belay_g={{}}
__belay_S=(int,float,str,bool,type(None),bytes)
__belay_L=__belay_S+(list,tuple,dict,set)
__belay_bp,__belay_bl,__belay_br,__belay_bt,__belay_be,__belay_bg,__belay_bs,__belay_bb=print,len,repr,type,exec,globals,sum,bytes
__belay_bc=getattr(__import__('builtins'),'compile',None)
try:__belay_bk,__belay_bj=__import__('binascii').crc32,';'
except (ImportError,AttributeError):__belay_bk,__belay_bj=lambda s:__belay_bs(__belay_bb(s,'utf8'))&65535,','
def __belay_n(t):
 try:return t.__name__
 except AttributeError:return __belay_br(t).split("'")[1]
def __belay_tk(c):
 return'@%d'%__import__('time').ticks_ms()if c else''
def __belay_f(k,s,c=''):
 __belay_bp('%s%s%d%s%d%s:%s\\n'%(__belay_m,k,__belay_bl(s),__belay_bj,__belay_bk(s),c,s),end='')
def __belay_r(v,p=0,c=0):
 t=__belay_bt(v)
 if t in(__belay_S if p else __belay_L):__belay_f('R',__belay_br(v),__belay_tk(c))
 elif p:__belay_o[id(v)]=v;__belay_f('P','%d:%s'%(id(v),__belay_n(t)),__belay_tk(c))
 else:__belay_f('O',__belay_n(t)+':'+__belay_br(v),__belay_tk(c))
def __belay_gn(k,x,p=0,c=0):
 try:v=__belay_g[k].send(x)
 except StopIteration:
  del __belay_g[k];__belay_f('S','');return
 __belay_r(v,p,c)
def __belay_x(s):
 try:__belay_be(__belay_bc(s,'<stdin>','exec')if __belay_bc else s,__belay_bg())
 except SystemExit as e:__belay_f('X',__belay_br(e.args[0]if e.args else None));raise
"""
"""The board side of the protocol, a template: ``EMITTER.format(token=...)`` with the connection's token."""


MARK = b"\x02"
KINDS = b"ROPSXQ"
"""Frame kinds: results (``R``, ``O``, ``P``), generator stop (``S``), exit (``X``), a board request (``Q``)."""
MAX_DIGITS = 12
"""Most digits of a frame's length or ticks: longer is not a frame (so endless digits are never held)."""


@define(eq=False)
class Frame:
    """A result frame: its kind, its payload and, on results that carry the time, the board's ticks."""

    kind: str
    payload: str
    ticks: Optional[int] = None
    newline: bool = True
    damaged: bool = False
    """The payload does not match its length and sum: the line changed it on the way."""


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
    on_request
        Called with each request frame (``Q``) a board service sends, while the call runs (see
        `belay_core.session.Session.services`); without it a request is kept as a frame.

    Attributes
    ----------
    frames
        The frames found, in order.
    """

    _FRAME_START = 'File "<stdin>"'

    def __init__(
        self,
        stream: Optional[TextSink],
        remap: Optional[Callable[[str], str]] = None,
        token: bytes = b"",
        on_request: Optional[Callable[[Frame], None]] = None,
    ) -> None:
        self.stream = stream
        self.on_request = on_request
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
        if frame.kind == "Q" and self.on_request is not None:  # the board asks, and waits for the answer
            self.on_request(frame)
            return
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


def _number_at(data: bytes, start: int, end: int) -> tuple[Optional[int], int]:
    """The decimal number at ``data[start:]``: ``(value, index after it)``.

    ``(None, 0)`` when there is none, or more than `MAX_DIGITS` digits (no frame has such a number:
    text, never held back without end); ``(None, -1)`` when the digits reach ``end`` (more may come).
    """
    j = start
    while j < end and 48 <= data[j] <= 57:
        j += 1
    if j - start > MAX_DIGITS:
        return None, 0
    if j == end:
        return None, -1
    if j == start:
        return None, 0
    return int(data[start:j]), j


class RequestScanner:
    """Take a board's requests (``Q`` frames) out of raw output and answer them; the rest passes unchanged.

    For output that is shown as it is (the board's REPL at a terminal), where `ResultFilter`, which
    turns bytes into text, does not fit. A frame cut between two chunks is held until it is whole.

    Parameters
    ----------
    token
        The connection's frame token.
    on_request
        Called with each request frame.
    """

    def __init__(self, token: bytes, on_request: Callable[[Frame], None]) -> None:
        self.prefix = MARK + token
        self.marker = self.prefix + b"Q"
        self.on_request = on_request
        self.held = b""

    def __call__(self, data: bytes) -> bytes:
        """The output to show of ``data``, after answering the requests in it."""
        data = self.held + data if self.held else data
        self.held = b""
        out = bytearray()
        start = 0
        while True:
            index = data.find(self.marker, start)
            if index < 0:
                break
            size, frame = _frame_at(data, index + len(self.prefix))
            if size == 0:  # not a frame after all
                out += data[start : index + 1]
                start = index + 1
                continue
            out += data[start:index]
            if size < 0:
                self.held = data[index:]
                return bytes(out)
            assert frame is not None
            self.on_request(frame)
            start = index + len(self.prefix) + size
        rest = data[start:]
        for keep in range(min(len(rest), len(self.marker) - 1), 0, -1):
            if self.marker.startswith(rest[-keep:]):
                self.held, rest = rest[-keep:], rest[:-keep]
                break
        out += rest
        return bytes(out)


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
    length, i = _number_at(data, at + 1, end)
    if length is None:
        return i, None
    checksum: Optional[int] = None
    crc = data[i] == 59  # ";": the payload's CRC-32
    if crc or data[i] == 44:  # ",": the payload's byte sum
        checksum, i = _number_at(data, i + 1, end)
        if checksum is None:
            return i, None
    ticks: Optional[int] = None
    if data[i] == 64:  # "@": the board's clock
        ticks, i = _number_at(data, i + 1, end)
        if ticks is None:
            return i, None
    if data[i] != 58:  # ":"
        return 0, None
    # The length counts characters: take ``length`` of them, then the newline.
    body = data[i + 1 :]
    if len(body) < length:  # a character is at least a byte: not all here yet
        return -1, None
    head = body[:length]
    if head.isascii():  # the common case: a repr is ASCII, one byte a character
        payload, used = head.decode("ascii"), length
        damaged = checksum is not None and (zlib.crc32(head) if crc else sum(head) & 0xFFFF) != checksum
    else:
        text = body.decode("utf-8", errors="ignore")
        if len(text) < length:
            return -1, None
        payload = text[:length]
        encoded = payload.encode("utf-8")
        used = len(encoded)
        damaged = checksum is not None and (
            (zlib.crc32(encoded) if crc else sum(encoded) & 0xFFFF) != checksum or body[:used] != encoded
        )
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
    frame = Frame(chr(data[at]), payload, ticks, newline=bool(newline) or final, damaged=damaged)
    return i + 1 + used + newline - at, frame


def new_token() -> str:
    """Four random lower-case letters: the frame token of one connection."""
    return "".join(chr(97 + byte % 26) for byte in os.urandom(4))


@define(frozen=True)
class KeptObject:
    """What a ``P`` frame names: an object the board keeps in ``__belay_o`` under ``ident`` for a proxy."""

    ident: str
    type_name: str

    @property
    def ref(self) -> str:
        """Board source naming the object."""
        return f"__belay_o[{self.ident}]"


class UnparsableResultWarning(UserWarning):
    """A call returned `UNPARSABLE_RESULT`: the board's value has no plain host equivalent."""


_VIEWS = ("dict_keys", "dict_values", "dict_items")
_CONSTANTS = {"None": None, "True": True, "False": False}


def decode(frame: Frame, *, trusted: bool = False, stop_ok: bool = False) -> Any:
    """The host value a frame carries.

    Parameters
    ----------
    frame
        A result frame.
    trusted
        Parse the payload with `eval` (any repr), not `ast.literal_eval` (literals only).
    stop_ok
        Give `StopIteration` (the class) for an ``S`` frame, a generator's end.

    Returns
    -------
    Any
        The value; a `KeptObject` for a ``P`` frame; `UNPARSABLE_RESULT` (with an
        `UnparsableResultWarning`) for a value that is not a literal when not ``trusted``, as the
        original belay returned; a dict view (``d.keys()``) as a list, as the original did.
    """
    kind, payload = frame.kind, frame.payload
    if kind == "S" and stop_ok:
        return StopIteration
    if kind == "P":
        ident, _, type_name = payload.partition(":")
        return KeptObject(ident, type_name)
    if kind == "O":
        type_name, _, text = payload.partition(":")
        if trusted:
            return eval(text)
        view = text.partition("(")[0]
        if view in _VIEWS and text.endswith(")"):
            try:
                return list(ast.literal_eval(text[len(view) + 1 : -1]))
            except (ValueError, SyntaxError):
                pass
        return _unparsable(f"a {type_name!r} ({text[:120]}), which is not a plain value")
    if trusted:
        return eval(payload)
    if payload.isdigit() and payload.isascii():  # the commonest results, without the parser
        return int(payload)
    if payload in _CONSTANTS:
        return _CONSTANTS[payload]
    try:
        return ast.literal_eval(payload)
    except (ValueError, SyntaxError):
        return _unparsable(f"{payload[:200]!r}, which holds values that are not Python literals")
    except (MemoryError, RecursionError):  # a hostile or broken answer (``----...1``): never a bare error
        raise ProtocolError(
            f"the board's result ({len(payload)} characters, starting {payload[:40]!r}) is nested too deeply "
            "to parse on the host"
        ) from None


def _unparsable(what: str) -> Any:
    warnings.warn(
        UnparsableResultWarning(
            f"the board returned {what}: the call gives UNPARSABLE_RESULT. Ask for a proxy "
            "(device.proxy(...), proxy=True, @device.task(proxy=True)) or pass trusted=True"
        ),
        stacklevel=_outside_belay(),
    )
    return UNPARSABLE_RESULT


_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def _outside_belay() -> int:
    """The ``stacklevel`` of the first caller outside ``belay_core``: where a warning should point."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        level += 1
        frame = frame.f_back  # type: ignore[assignment]
    return level


__all__ = [
    "EMITTER",
    "KINDS",
    "MARK",
    "Frame",
    "KeptObject",
    "RequestScanner",
    "ResultFilter",
    "UnparsableResultWarning",
    "decode",
    "new_token",
]
