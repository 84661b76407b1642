"""`Device`: a connection to one board, the object users program against."""

from __future__ import annotations

import ast
import codecs
import os
import sys
import threading
from typing import Any, Optional, TextIO

from attrs import define

from belay_core.errors import BelayError, DeviceClosedError, DeviceError, DeviceSpecError
from belay_core.repl import RawRepl
from belay_core.transport import Transport

DEFAULT_TIMEOUT = 60.0
"""Seconds a call may take unless told otherwise (generous: boards are slow, networks are slower)."""

_UNSET: Any = object()

RESULT_MARK = "\x02"
"""Starts the result frame ``\\x02<length>:<repr>\\n`` the board prints last, after all user output."""

# Defined on the board at connect. `__belay_r` prints the result frame; because it is the last thing
# printed before the raw REPL's end marker, and its length is part of it, no user output can be
# mistaken for it.
_HELPERS = """\
import sys
def __belay_r(v):
 s=repr(v);print('\\x02%d:%s'%(len(s),s))
def __belay_i():
 i=sys.implementation;e=[]
 for n in('native','viper'):
  try:exec('@micropython.%s\\ndef f():pass'%n);e.append(n)
  except Exception:pass
 return(i.name,tuple(i.version),sys.platform,getattr(i,'_mpy',0),e)
"""

# The original belay's convenience names, each tolerant of a missing module (the wasm board has no
# `machine`; old firmware names modules `utime`, ...).
_CONVENIENCE = """\
def __belay_c(g):
 for n in('os','time','machine','micropython'):
  for m in(n,'u'+n):
   try:g[n]=__import__(m);break
   except ImportError:pass
 for m,n in(('time','sleep'),('micropython','const'),('machine','Pin'),('machine','Timer'),('machine','PWM'),
  ('machine','I2C'),('machine','SPI'),('machine','ADC')):
  try:g[n]=getattr(g[m],n)
  except (KeyError,AttributeError):pass
__belay_c(globals())
del __belay_c
"""

ARCHITECTURES: tuple[Optional[str], ...] = (
    None,
    "x86",
    "x64",
    "armv6",
    "armv6m",
    "armv7m",
    "armv7em",
    "armv7emsp",
    "armv7emdp",
    "xtensa",
    "xtensawin",
    "rv32imc",
    "rv64imc",
)
"""Native architectures by the number in bits 10+ of ``sys.implementation._mpy``."""


@define(frozen=True)
class Implementation:
    """What firmware runs on the board, gathered at connect.

    Parameters
    ----------
    name
        ``"micropython"`` or ``"circuitpython"``.
    version
        Firmware version, e.g. ``(1, 27, 0)``.
    platform
        ``sys.platform``: ``"rp2"``, ``"esp32"``, ``"linux"``, ``"webassembly"``, ``"microbit"``, ...
    arch
        Native code architecture (``"x64"``, ``"armv6m"``, ``"rv64imc"``), ``None`` when the firmware
        has none or does not say.
    emitters
        Code emitters available besides bytecode: ``("native", "viper")``, or ``()``.
    mpy_version, mpy_sub_version
        The ``.mpy`` format the firmware loads; ``None`` when it does not say.
    """

    name: str
    version: tuple[int, ...]
    platform: str
    arch: Optional[str] = None
    emitters: tuple[str, ...] = ()
    mpy_version: Optional[int] = None
    mpy_sub_version: Optional[int] = None

    @classmethod
    def from_board(cls, info: tuple[Any, ...]) -> Implementation:
        """Build from the tuple `__belay_i()` returns on the board."""
        name, version, platform, mpy, emitters = info
        arch = mpy_version = mpy_sub = None
        if mpy:
            mpy_version = mpy & 0xFF
            mpy_sub = (mpy >> 8) & 0x3
            index = (mpy >> 10) & 0xF
            arch = ARCHITECTURES[index] if index < len(ARCHITECTURES) else f"arch{index}"
        return cls(
            name=name,
            version=tuple(v for v in version if isinstance(v, int)),
            platform=platform,
            arch=arch,
            emitters=tuple(emitters),
            mpy_version=mpy_version,
            mpy_sub_version=mpy_sub,
        )


class _ResultFilter:
    """Streams board output to the user while holding back the trailing result frame."""

    def __init__(self, stream: Optional[TextIO]) -> None:
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.held = b""
        self.tail_cr = False

    def __call__(self, data: bytes) -> None:
        data = self.held + data
        index = data.rfind(RESULT_MARK.encode())
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

    def finish(self) -> Optional[str]:
        """Return the result frame's text, if the output ended with one; flush everything else."""
        held, self.held = self.held, b""
        result = None
        if held:
            text = held.decode("utf-8", errors="replace")[1:]
            if text.endswith("\n"):  # print's newline: a board-side flush on line-buffered consoles
                text = text[:-2] if text.endswith("\r\n") else text[:-1]
            length, sep, body = text.partition(":")
            if sep and length.isdigit() and len(body) == int(length):
                result = body
            else:
                self._emit(held)
        if self.stream is not None:
            rest = self.decoder.decode(b"", final=True) + ("\r" if self.tail_cr else "")
            if rest:
                self.stream.write(rest)
                self.stream.flush()
        return result


def _is_expression(code: str) -> bool:
    try:
        ast.parse(code, mode="eval")
    except SyntaxError:
        return False
    return True


class Device:
    """A connection to one MicroPython or CircuitPython board.

    Parameters
    ----------
    spec
        Which board and how to reach it: ``"emu:"``, ``"exec:micropython"``, ``"/dev/ttyACM0"``,
        ``"ws://192.168.4.1"``. Default: the ``BELAY_DEVICE`` environment variable.
    timeout
        Seconds a call may take (default 60); ``None`` waits forever. Override per call.
    startup
        Code run once connected. ``None`` (default) makes the original belay's convenience names
        (``os``, ``time``, ``sleep``, ``machine``, ``Pin``, ``const``, ...), skipping what the
        firmware lacks; ``""`` runs nothing.
    soft_reset
        Soft-reset the board on connect, for a fresh heap (default ``True``).
    stream_out
        Where board output goes as it is printed (default: ``sys.stdout`` at the time of each call;
        ``None`` discards it).
    **options
        Options for the transport (baud rate, password, ...).

    Examples
    --------
    >>> with Device("emu:") as device:      # doctest: +SKIP
    ...     device("1 + 1")
    2
    """

    def __init__(
        self,
        spec: Optional[str] = None,
        *,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
        startup: Optional[str] = None,
        soft_reset: bool = True,
        stream_out: Optional[TextIO] = _UNSET,
        **options: Any,
    ) -> None:
        if spec is None:
            spec = os.environ.get("BELAY_DEVICE")
            if not spec:
                raise DeviceSpecError(
                    "no device given: pass a spec (e.g. Device('/dev/ttyACM0') or Device('emu:')) or set BELAY_DEVICE"
                )
        self.spec = spec
        self.timeout = timeout
        self.stream_out = stream_out
        self._lock = threading.RLock()
        self._closed = False
        self._transport = self._make_transport(spec, options)
        self._transport.open()
        try:
            self._repl = RawRepl(self._transport)
            self._repl.enter(soft_reset=soft_reset)
            startup_code = _CONVENIENCE if startup is None else startup
            info = self._run(
                _HELPERS + startup_code + "\n__belay_r(__belay_i())\ndel __belay_i", None, True, False, self.stream_out
            )
            self.implementation = Implementation.from_board(info)
        except BaseException:
            self._transport.close()
            self._closed = True
            raise

    @staticmethod
    def _make_transport(spec: str, options: dict[str, Any]) -> Transport:
        from belay_core.plugins import get_plugins

        record = get_plugins().transport_for(spec)
        cls = record.load()
        return cls(spec, **options)

    # ------------------------------------------------------------------------------------------------
    # Calls
    # ------------------------------------------------------------------------------------------------

    def __call__(
        self,
        code: str,
        *,
        timeout: Optional[float] = _UNSET,
        stream_out: Optional[TextIO] = _UNSET,
        trusted: bool = False,
    ) -> Any:
        """Run ``code`` on the board.

        Parameters
        ----------
        code
            A statement (returns ``None``) or an expression (returns its value).
        timeout
            Seconds this call may take; default the device's.
        stream_out
            Where this call's output goes; default the device's.
        trusted
            Parse the result with `eval` instead of `ast.literal_eval`, for values whose repr is
            not a literal.

        Returns
        -------
        Any
            The expression's value, or ``None`` for statements.

        Raises
        ------
        DeviceError
            When the code raised on the board; carries the board's traceback.
        DeviceTimeoutError
            When the call did not finish in time (the board was interrupted).
        """
        expression = _is_expression(code)
        source = f"__belay_r({code}\n)" if expression else code
        return self._run(
            source,
            self.timeout if timeout is _UNSET else timeout,
            expression,
            trusted,
            self.stream_out if stream_out is _UNSET else stream_out,
        )

    def _run(
        self,
        source: str,
        timeout: Optional[float],
        expression: bool,
        trusted: bool,
        stream_out: Optional[TextIO] = _UNSET,
    ) -> Any:
        with self._lock:
            if self._closed:
                raise DeviceClosedError(f"the device {self.spec!r} is closed")
            output = _ResultFilter(sys.stdout if stream_out is _UNSET else stream_out)
            stderr = self._repl.exec(source.encode(), timeout=timeout, on_stdout=output)
            text = output.finish()
        if stderr:
            raise DeviceError(stderr.decode("utf-8", errors="replace"))
        if not expression:
            return None
        if text is None:
            raise BelayError("the board printed no result for the expression")
        return self._parse(text, trusted)

    @staticmethod
    def _parse(text: str, trusted: bool) -> Any:
        if trusted:
            return eval(text)
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise BelayError(
                f"the result {text[:200]!r} is not a Python literal; "
                "pass trusted=True to evaluate it, or return plain values"
            ) from None

    # ------------------------------------------------------------------------------------------------
    # Life cycle
    # ------------------------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether `close` was called."""
        return self._closed

    @property
    def round_trips(self) -> int:
        """Round trips to the board since connecting (connect included)."""
        return self._repl.round_trips

    def soft_reset(self) -> None:
        """Soft-reset the board (fresh heap, same files) and keep the device usable."""
        with self._lock:
            if self._closed:
                raise DeviceClosedError(f"the device {self.spec!r} is closed")
            self._repl.soft_reset()
            self._run(_HELPERS, None, False, False)

    def close(self) -> None:
        """Leave the raw REPL and close the line; closing twice is harmless."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._repl.exit()
            finally:
                self._transport.close()

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<Device {self.spec!r} {state}>"


__all__ = ["DEFAULT_TIMEOUT", "Device", "Implementation"]
