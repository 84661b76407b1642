"""`Device`: a connection to one board, the object users program against."""

from __future__ import annotations

import ast
import os
import sys
import threading
import time
from datetime import datetime
from typing import Any, Callable, ClassVar, Optional, TextIO, Union

from attrs import define

from belay_core import _board
from belay_core._output import ResultFilter
from belay_core.errors import (
    BelayError,
    ConnectionLost,
    DeviceClosedError,
    DeviceSpecError,
    NoMatchingExecuterError,
)
from belay_core.executers import Executer, ExecuterMarker, FunctionSource, MarkedFunction
from belay_core.files import FilesMixin
from belay_core.repl import RawRepl
from belay_core.tracebacks import SourceOrigin, device_error, remap
from belay_core.transport import Transport

DEFAULT_TIMEOUT = 60.0
"""Seconds a call may take unless told otherwise (generous: boards are slow, networks are slower)."""

TICKS_PERIOD = 1 << 30
"""``time.ticks_ms()`` wraps around at this many milliseconds on MicroPython ports."""

MAX_HISTORY = 1000
"""Recorded definitions and setups kept for replay after a reconnect or soft reset."""

_UNSET: Any = object()

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
    features
        Optional firmware features found: ``"thread"`` (``_thread``).
    """

    name: str
    version: tuple[int, ...]
    platform: str
    arch: Optional[str] = None
    emitters: tuple[str, ...] = ()
    mpy_version: Optional[int] = None
    mpy_sub_version: Optional[int] = None
    features: tuple[str, ...] = ()

    @classmethod
    def from_board(cls, info: tuple[Any, ...]) -> Implementation:
        """Build from the tuple ``__belay_i()`` returns on the board."""
        name, version, platform, mpy, found = info
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
            emitters=tuple(e for e in found if e in ("native", "viper")),
            mpy_version=mpy_version,
            mpy_sub_version=mpy_sub,
            features=tuple(e for e in found if e not in ("native", "viper")),
        )


def _discover() -> str:
    """The one attached board that transports find, for ``Device()`` with no spec and no ``BELAY_DEVICE``."""
    from belay_core.plugins import discover_boards, get_plugins

    found = discover_boards(get_plugins())
    if len(found) == 1:
        return found[0]
    how = "pass a spec (e.g. Device('/dev/ttyACM0') or Device('emu:')) or set BELAY_DEVICE"
    if not found:
        raise DeviceSpecError(f"no device given and no board found attached: {how}")
    raise DeviceSpecError(f"no device given and {len(found)} boards attached ({', '.join(found)}): {how}")


CLASSIC_PIECE = 384
"""Bytes of start-up code sent in one exec to firmware without raw-paste (the micro:bit's receive
buffer overflows on long input while its heap collects garbage)."""


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


def _is_expression(code: str) -> bool:
    try:
        ast.parse(code, mode="eval")
    except SyntaxError:
        return False
    return True


# --------------------------------------------------------------------------------------------------
# Class-level decorators and overloads
# --------------------------------------------------------------------------------------------------


class _OverloadList(list):  # type: ignore[type-arg]
    """Overloads of one method name, in definition order (catch-all last)."""


class _ClassNamespace(dict):  # type: ignore[type-arg]
    """A class body namespace where ``@Device.<executer>`` methods of one name accumulate as overloads."""

    def __setitem__(self, key: str, value: Any) -> None:
        prior = self.get(key)
        if isinstance(value, MarkedFunction):
            if isinstance(prior, _OverloadList):
                if any(m.implementation is None for m in prior):
                    raise BelayError(f"{key!r}: an overload follows the catch-all (no implementation=) one")
                prior.append(value)
                return
            if prior is not None:
                raise BelayError(f"{key!r} is defined both as an executer method and as a plain attribute")
            value = _OverloadList([value])
        elif isinstance(prior, _OverloadList):
            raise BelayError(f"{key!r} is defined both as an executer method and as a plain attribute")
        super().__setitem__(key, value)


class _ExecuterMethod:
    """Class attribute holding the overloads of one executer method; resolved per connected device."""

    def __init__(self, overloads: _OverloadList) -> None:
        self.overloads = list(overloads)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def choose(self, implementation: str) -> Optional[MarkedFunction]:
        for marked in self.overloads:
            if marked.implementation in (None, implementation):
                return marked
        return None

    def __get__(self, instance: Any, owner: Optional[type] = None) -> Any:
        if instance is None:
            return self
        impl = instance.implementation.name
        raise NoMatchingExecuterError(
            f"{type(instance).__name__}.{self.name} has no overload for {impl!r} "
            f"(overloads: {', '.join(repr(m.implementation) for m in self.overloads)})"
        )


class DeviceMeta(type):
    """Metaclass of `Device`: class-level executer decorators and per-implementation overloads."""

    @classmethod
    def __prepare__(mcs, name: str, bases: tuple[type, ...], **kwargs: Any) -> dict[str, Any]:
        return _ClassNamespace()

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any) -> DeviceMeta:
        converted = {k: _ExecuterMethod(v) if isinstance(v, _OverloadList) else v for k, v in namespace.items()}
        return super().__new__(mcs, name, bases, converted, **kwargs)

    def __getattr__(cls, name: str) -> ExecuterMarker:
        if not name.startswith("_"):
            from belay_core.plugins import get_plugins

            if name in get_plugins().records("executers"):
                return ExecuterMarker(name)
        raise AttributeError(f"type object {cls.__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------------------------------
# Device
# --------------------------------------------------------------------------------------------------


class Device(FilesMixin, metaclass=DeviceMeta):
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
    attempts
        Reconnect this many times when the line is lost, replaying recorded setups and definitions
        (default 0: raise `ConnectionLost`).
    **options
        Options for the transport (baud rate, password, ...).

    Examples
    --------
    >>> with Device("emu:") as device:      # doctest: +SKIP
    ...     device("1 + 1")
    2
    """

    setup: ClassVar[Any]
    task: ClassVar[Any]
    thread: ClassVar[Any]
    teardown: ClassVar[Any]

    def __init__(
        self,
        spec: Optional[str] = None,
        *,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
        startup: Optional[str] = None,
        soft_reset: bool = True,
        stream_out: Optional[TextIO] = _UNSET,
        attempts: int = 0,
        **options: Any,
    ) -> None:
        if spec is None:
            spec = os.environ.get("BELAY_DEVICE") or _discover()
        self.spec = spec
        self.timeout = timeout
        self.stream_out = stream_out
        self.attempts = attempts
        self._startup = _board.CONVENIENCE if startup is None else startup
        self._lock = threading.RLock()
        self._closed = False
        self._executers: dict[str, Executer] = {}
        self._origins: dict[str, SourceOrigin] = {}
        self._history: list[str] = []
        self._teardowns: list[Callable[[], None]] = []
        self._deferred: list[str] = []
        self._minifiers: dict[str, Callable[[str], str]] = {}
        self._sync: Optional[tuple[int, float]] = None
        self._reconnecting = False
        # What Belay installed on the board for this connection (a hasher, ...); cleared with the heap.
        self.board_cache: dict[str, Any] = {}
        self._transport = self._make_transport(spec, options)
        self._transport.open()
        try:
            self._repl = RawRepl(self._transport)
            self._connect(soft_reset and self._transport.soft_reset_on_connect)
            self._bind_class_methods()
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

    def _connect(self, soft_reset: bool) -> None:
        """Enter the raw REPL, define the helpers, run start-up, learn the firmware: 3 round trips."""
        self._repl.enter(soft_reset=soft_reset)
        self._start()

    def _start(self) -> None:
        """Define the helpers, run start-up and learn the firmware: one round trip where raw-paste exists.

        Firmware without raw-paste has no flow control for long input, so there the code goes in
        pieces of at most `CLASSIC_PIECE` bytes, each acknowledged before the next.
        """
        code = _board.HELPERS + self._startup + "\n__belay_r(__belay_i())\ndel __belay_i"
        pieces = [code] if self._repl.raw_paste else _top_level_pieces(code, CLASSIC_PIECE)
        for piece in pieces[:-1]:
            self._run(piece, self.timeout, False, False)
        self.implementation = Implementation.from_board(self._run(pieces[-1], self.timeout, True, False))

    def _bind_class_methods(self) -> None:
        """Register the ``@Device.<executer>`` methods of this class for the connected firmware."""
        seen: set[str] = set()
        chosen: list[tuple[str, MarkedFunction]] = []
        for klass in type(self).__mro__:
            for name, value in vars(klass).items():
                if isinstance(value, _ExecuterMethod) and name not in seen:
                    seen.add(name)
                    marked = value.choose(self.implementation.name)
                    if marked is not None:
                        chosen.append((name, marked))
        chosen.reverse()  # base classes first, each in definition order
        autoinit = []
        for name, marked in chosen:
            options = dict(marked.options)
            wants_autoinit = options.pop("autoinit", False)
            host = self.executer(marked.executer)(marked.function, **options)
            object.__setattr__(self, name, host)
            if wants_autoinit:
                autoinit.append(host)
        self.__pre_autoinit__()
        for host in autoinit:
            host()
        self.__post_init__()

    def __pre_autoinit__(self) -> None:
        """Called in subclasses after connecting and before their autoinit setups run."""

    def __post_init__(self) -> None:
        """Called in subclasses after their autoinit setups ran."""

    def executer(self, name: str) -> Executer:
        """The executer ``name`` of this device (``device.task`` is ``device.executer("task")``).

        Raises
        ------
        PluginError
            When no executer of that name is installed.
        """
        executer = self._executers.get(name)
        if executer is None:
            from belay_core.plugins import get_plugins

            cls = get_plugins().get("executers", name).load()
            executer = self._executers[name] = cls(self, name)
        return executer

    def __getattr__(self, name: str) -> Executer:
        if name.startswith("_") or "_executers" not in self.__dict__:
            raise AttributeError(name)
        from belay_core.plugins import get_plugins

        if name not in get_plugins().records("executers"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self.executer(name)

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
        record: bool = False,
        minify: Union[bool, str] = False,
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
        record
            Replay this code after a reconnect or soft reset.
        minify
            Minify ``code`` before sending it (``True``, or a minifier's name).

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
        if _is_expression(code):
            return self.evaluate(code, trusted=trusted, timeout=timeout, stream_out=stream_out, record=record)
        self.run_statements(self.minify(code, minify), timeout=timeout, stream_out=stream_out, record=record)
        return None

    def evaluate(
        self,
        expression: str,
        *,
        trusted: bool = False,
        proxy: bool = False,
        timeout: Optional[float] = _UNSET,
        stream_out: Optional[TextIO] = _UNSET,
        record: bool = False,
        return_time: bool = False,
    ) -> Any:
        """Evaluate ``expression`` on the board and return its value (see `__call__`).

        Parameters
        ----------
        proxy
            Return a `ProxyObject` for values that are not plain.
        return_time
            Return ``(value, datetime)``: when the board finished, in host time (syncs time first use).
        """
        if return_time:
            self._ensure_time_sync()
            expression = f"({expression},{_board.TICKS})"
        source = f"__belay_r({expression}\n,{int(proxy)})"
        result = self._run(source, self._timeout(timeout), True, trusted, stream_out, record=record)
        if return_time:
            value, ticks = result
            return value, datetime.fromtimestamp(self._host_time(ticks))
        return result

    def run_statements(
        self,
        code: str,
        *,
        origin: Optional[SourceOrigin] = None,
        timeout: Optional[float] = _UNSET,
        stream_out: Optional[TextIO] = _UNSET,
        record: bool = False,
    ) -> None:
        """Run statements on the board; ``origin`` maps ``<module>`` frames of tracebacks to the host."""
        self._run(code, self._timeout(timeout), False, False, stream_out, record=record, origin=origin)

    def step_generator(self, step: str, *, trusted: bool, return_time: bool, proxy: bool) -> Any:
        """Run one step of a board generator; return its value, or `StopIteration` when it ended."""
        if return_time:
            self._ensure_time_sync()
        result = self._run(step, self._timeout(_UNSET), True, trusted, _UNSET, stop_ok=True)
        if result is StopIteration or not return_time:
            return result
        return result, datetime.fromtimestamp(self._host_time(self.evaluate(_board.TICKS)))

    def define(self, source: FunctionSource, minify: Union[bool, str] = True) -> None:
        """Define a host function on the board (recorded for replay); tracebacks map to its host lines."""
        self._origins[source.name] = source.origin
        self.run_statements(self.minify(source.code, minify), origin=source.origin, record=True)

    def defer(self, code: str) -> None:
        """Run ``code`` before the next call (used by finalizers, which must not talk to the board)."""
        self._deferred.append(code)

    def add_teardown(self, teardown: Callable[[], None]) -> None:
        """Run ``teardown`` when the device closes (in the order added)."""
        self._teardowns.append(teardown)

    def minify(self, code: str, minify: Union[bool, str] = True) -> str:
        """Minify ``code`` with the default minifier (``True``), none (``False``) or the one named."""
        if minify is False:
            return code
        name = "default" if minify is True else minify
        function = self._minifiers.get(name)
        if function is None:
            from belay_core.plugins import get_plugins

            function = self._minifiers[name] = get_plugins().get("minifiers", name).load()
        return function(code)

    def _timeout(self, timeout: Optional[float]) -> Optional[float]:
        return self.timeout if timeout is _UNSET else timeout

    def _run(
        self,
        source: str,
        timeout: Optional[float],
        expression: bool,
        trusted: bool,
        stream_out: Optional[TextIO] = _UNSET,
        *,
        record: bool = False,
        origin: Optional[SourceOrigin] = None,
        stop_ok: bool = False,
    ) -> Any:
        stream = self.stream_out if stream_out is _UNSET else stream_out
        with self._lock:
            if self._closed:
                raise DeviceClosedError(f"the device {self.spec!r} is closed")
            if self._deferred:
                source = "\n".join([*self._deferred, source])
                self._deferred.clear()
            output = self._output(stream)
            try:
                stderr = self._repl.exec(source.encode(), timeout=timeout, on_stdout=output)
            except ConnectionLost:
                if not self.attempts or self._reconnecting:
                    raise
                self._reconnect()
                output = self._output(stream)
                stderr = self._repl.exec(source.encode(), timeout=timeout, on_stdout=output)
            frame = output.finish()
            if record and not stderr and len(self._history) < MAX_HISTORY:
                self._history.append(source)
        if stderr:
            raise device_error(remap(stderr.decode("utf-8", errors="replace"), self._origins, origin))
        if not expression:
            return None
        if frame is None:
            raise BelayError("the board printed no result for the expression")
        return self._parse(frame, trusted, stop_ok)

    def _output(self, stream: Optional[TextIO]) -> ResultFilter:
        origins = self._origins
        return ResultFilter(
            sys.stdout if stream is _UNSET else stream,
            (lambda line: remap(line, origins)) if origins else None,
        )

    def _parse(self, frame: tuple[str, str], trusted: bool, stop_ok: bool = False) -> Any:
        kind, payload = frame
        if kind == "S" and stop_ok:
            return StopIteration
        if kind == "P":
            from belay_core.proxy import ProxyObject

            ident, _, type_name = payload.partition(":")
            return ProxyObject(self, f"__belay_o[{ident}]", type_name=type_name, owned=True)
        if kind == "O":
            type_name, _, text = payload.partition(":")
            if not trusted:
                raise BelayError(
                    f"the board returned a {type_name!r} ({text[:120]}), which is not a plain value: "
                    "ask for a proxy (device.proxy(...), @device.task(proxy=True)) or pass trusted=True"
                )
            return eval(text)
        if trusted:
            return eval(payload)
        try:
            return ast.literal_eval(payload)
        except (ValueError, SyntaxError):
            raise BelayError(
                f"the result {payload[:200]!r} holds values that are not Python literals; "
                "pass trusted=True to evaluate it, or return plain values"
            ) from None

    # ------------------------------------------------------------------------------------------------
    # Proxies
    # ------------------------------------------------------------------------------------------------

    def proxy(self, expression: str) -> Any:
        """A `ProxyObject` for the board object ``expression`` names or evaluates to: one round trip.

        A name (``"led"``) refers to the board's global of that name, whatever it is bound to later;
        an import (``"import machine"``, ``"from machine import Pin"``) runs and refers to the name it
        binds; any other expression is evaluated once and its result kept on the board for as long as
        a proxy of it lives. Plain values (``"1 + 1"``) give a proxy too.
        """
        from belay_core.proxy import ProxyObject

        expression = expression.strip()
        name = expression if expression.isidentifier() else None
        prelude = ""
        if name is None and expression.startswith(("import ", "from ")):
            try:
                (statement,) = ast.parse(expression).body
            except (SyntaxError, ValueError):
                raise BelayError(f"device.proxy takes an expression or one import, not {expression!r}") from None
            if not isinstance(statement, (ast.Import, ast.ImportFrom)) or len(statement.names) != 1:
                raise BelayError(f"device.proxy imports one name at a time, not {expression!r}")
            alias = statement.names[0]
            name, prelude = alias.asname or alias.name.split(".")[0], expression + "\n"
        if name is not None:
            type_name = self._run(f"{prelude}__belay_r(__belay_n(type({name})))", self._timeout(_UNSET), True, False)
            return ProxyObject(self, name, type_name=type_name, owned=False)
        keep = (
            f"__belay_v=(\n{expression}\n)\n__belay_o[id(__belay_v)]=__belay_v\n"
            "__belay_f('P','%d:%s'%(id(__belay_v),__belay_n(type(__belay_v))))\ndel __belay_v"
        )
        return self._run(keep, self._timeout(_UNSET), True, False)

    # ------------------------------------------------------------------------------------------------
    # Sync
    # ------------------------------------------------------------------------------------------------

    def sync(
        self,
        folder: Union[str, os.PathLike[str]],
        dst: str = "/",
        keep: Union[str, list[str], None] = None,
        ignore: Union[str, list[str], None] = None,
        minify: Union[bool, str] = True,
        mpy_cross: Union[bool, str, os.PathLike[str], None] = None,
        dry_run: bool = False,
        progress: Optional[Callable[[str, int, int], None]] = None,
    ) -> Any:
        """Make ``dst`` on the board hold exactly the files of ``folder``, sending only what changed.

        Parameters
        ----------
        folder
            Host folder to sync.
        dst
            Board folder (absolute). Nothing outside it is ever touched.
        keep
            Paths relative to ``dst`` never removed. Default: ``boot.py``, ``webrepl_cfg.py`` and ``lib``
            when ``dst`` is ``/``, else nothing.
        ignore
            gitignore-style patterns relative to ``folder`` (``/build``, ``docs/*.md``); a ``.belayignore``
            file in ``folder`` adds its own.
        minify
            Minify ``.py`` files (``True``), not (``False``), or with the minifier of this name.
        mpy_cross
            Compile ``.py`` files (but ``boot.py`` and ``main.py``) to ``.mpy`` with the board's format
            (``True``), or with this mpy-cross binary; needs the belay-mpy-cross plugin.
        dry_run
            Only plan: return what would change, change nothing.
        progress
            ``progress(path, done, total)`` after each file sent.

        Returns
        -------
        SyncPlan
            What was (or, with ``dry_run``, would be) uploaded, deleted, kept unchanged and created.
        """
        from belay_core.sync import sync

        with self._lock:
            return sync(self, folder, dst, keep, ignore, minify, mpy_cross, dry_run, progress)

    def sync_dependencies(
        self, package: Union[str, Any], *subfolders: Union[str, os.PathLike[str]], dst: str = "/lib", **kwargs: Any
    ) -> Any:
        """Sync folders bundled in a host Python ``package`` to ``dst`` (default ``/lib``).

        Only files this package put there before are ever removed: calls for other packages, and
        other files in ``dst``, are left alone.
        """
        from belay_core.sync import sync_dependencies

        with self._lock:
            return sync_dependencies(self, package, *subfolders, dst=dst, **kwargs)

    # ------------------------------------------------------------------------------------------------
    # Time
    # ------------------------------------------------------------------------------------------------

    def sync_time(self, samples: int = 10) -> float:
        """Measure the offset between the board's millisecond clock and the host's clock.

        The sample with the shortest round trip wins (its delay is the most symmetric).

        Returns
        -------
        float
            `time_offset`: board seconds minus host seconds.
        """
        best: Optional[tuple[float, int, float]] = None
        for _ in range(max(1, samples)):
            start = time.time()
            ticks = self.evaluate(_board.TICKS)
            end = time.time()
            if best is None or end - start < best[0]:
                best = (end - start, ticks, (start + end) / 2)
        assert best is not None
        self._sync = (best[1], best[2])
        return self.time_offset

    @property
    def time_offset(self) -> float:
        """Board clock minus host clock, in seconds, as of the last `sync_time`.

        Raises
        ------
        BelayError
            When `sync_time` was never called.
        """
        if self._sync is None:
            raise BelayError("time is not synchronized: call device.sync_time() first")
        ticks, host = self._sync
        return ticks / 1000 - host

    def _ensure_time_sync(self) -> None:
        if self._sync is None:
            self.sync_time()

    def _host_time(self, ticks: int) -> float:
        assert self._sync is not None
        sync_ticks, sync_host = self._sync
        elapsed = (ticks - sync_ticks) % TICKS_PERIOD
        if elapsed > TICKS_PERIOD // 2:  # a little before the sync point
            elapsed -= TICKS_PERIOD
        return sync_host + elapsed / 1000

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

    @property
    def bytes_written(self) -> int:
        """Bytes written to the board since connecting."""
        return self._repl.bytes_written

    def _replay(self) -> None:
        """Define the helpers, run start-up and replay recorded code, after a fresh heap."""
        self._start()
        self._sync = None
        self.board_cache.clear()
        for code in list(self._history):
            self._run(code, self.timeout, False, False)

    def soft_reset(self) -> None:
        """Soft-reset the board (fresh heap, same files) and keep the device usable.

        Task definitions and recorded setups (autoinit ones included) are replayed.
        """
        with self._lock:
            if self._closed:
                raise DeviceClosedError(f"the device {self.spec!r} is closed")
            self._deferred.clear()
            self._repl.soft_reset()
            self._replay()

    def reconnect(self) -> None:
        """Open the line again (restarting an emulated or ``exec:`` board) and replay recorded code."""
        with self._lock:
            self._reconnect()

    def _reconnect(self) -> None:
        last: Optional[BaseException] = None
        self._reconnecting = True
        try:
            for attempt in range(max(1, self.attempts)):
                if attempt:
                    time.sleep(1.0)
                self._transport.close()
                try:
                    self._transport.open()
                    self._repl = RawRepl(self._transport)
                    self._repl.enter(soft_reset=self._transport.soft_reset_on_connect)
                    self._deferred.clear()
                    self._replay()
                    return
                except ConnectionLost as exc:
                    last = exc
        finally:
            self._reconnecting = False
        raise ConnectionLost(f"could not reconnect to {self.spec!r}: {last}")

    def close(self) -> None:
        """Run the teardowns, leave the raw REPL and close the line; closing twice is harmless."""
        with self._lock:
            if self._closed:
                return
            try:
                for teardown in self._teardowns:
                    teardown()
            finally:
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
        return f"<{type(self).__name__} {self.spec!r} {state}>"


__all__ = ["DEFAULT_TIMEOUT", "Device", "DeviceMeta", "Implementation"]
