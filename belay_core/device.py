"""`Device`: a connection to one board, the object users program against.

`Device` is a facade over parts that each have one job: the `belay_core.session.Session` (the line,
the raw-REPL engine, replay and result frames), `belay_core.files.BoardFiles` (``device.files``), sync,
proxies and the executers. They talk through the session's and the device's public methods.
"""

from __future__ import annotations

import ast
import atexit
import functools
import os
import time
import weakref
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Optional, Union

from belay_core.errors import (
    DeviceSpecError,
    FeatureUnavailableError,
    NotBelayResponseError,
    UsageError,
    raised_on_the_board,
)
from belay_core.executers import Executer, FunctionSource
from belay_core.files import BoardFiles, DiskUsage, FileInfo, LocalPath, TransferProgress
from belay_core.frames import KeptObject, decode
from belay_core.implementation import ARCHITECTURES, Implementation
from belay_core.repl import Pacing, resolve_pacing
from belay_core.session import DEFAULT, MAX_HISTORY, Session
from belay_core.source import dedent, is_expression, mentions_exit, worth_minifying
from belay_core.startup import CONVENIENCE, TICKS
from belay_core.subclasses import DeviceMeta, bindings, set_base
from belay_core.tracebacks import SourceOrigin

if TYPE_CHECKING:
    from belay_core.frames import TextSink
    from belay_core.mount import Mount
    from belay_core.plugins import Plugins

DEFAULT_TIMEOUT = 60.0
"""Seconds a call may take unless told otherwise (generous: boards are slow, networks are slower)."""

_UNSET: Any = DEFAULT


_READ_RTC = """\
try:
 import machine;__belay_r(tuple(machine.RTC().datetime()))
except (ImportError,AttributeError):
 try:
  import time;__belay_t=time.localtime()
  __belay_r(tuple(__belay_t[:3])+(__belay_t[6],)+tuple(__belay_t[3:6]))
  del __belay_t
 except (ImportError,AttributeError):
  __belay_r(None)
"""
"""Board side of `Device.rtc`: the RTC's ``(year, month, day, weekday, hour, minute, second, ...)``."""

_SET_RTC = """\
try:
 import machine;machine.RTC().datetime({fields});__belay_r(True)
except (ImportError,AttributeError):
 __belay_r(False)
"""
"""Board side of `Device.set_rtc`: ``fields`` as the RTC takes them (weekday 0 is Monday)."""


def _discover(plugins: Plugins) -> str:
    """The one attached board that transports find, for ``Device()`` with no spec and no ``BELAY_DEVICE``."""
    from belay_core.plugins import discover_boards

    found = discover_boards(plugins)
    if len(found) == 1:
        return found[0]
    how = "pass a spec (e.g. Device('/dev/ttyACM0') or Device('emu:')) or set BELAY_DEVICE"
    if not found:
        raise DeviceSpecError(f"no device given and no board found attached: {how}")
    raise DeviceSpecError(f"no device given and {len(found)} boards attached ({', '.join(found)}): {how}")


LEGACY_POSITIONAL = ("baudrate", "user", "password")
"""Transport options the original belay took positionally after the port: ``Device(port, 115200)``."""


def _close_at_exit(ref: weakref.ReferenceType[Device]) -> None:
    device = ref()
    if device is not None:
        try:
            device.close()
        except Exception:  # the interpreter is exiting: nothing to report to
            pass


class Device(metaclass=DeviceMeta):
    """A connection to one MicroPython or CircuitPython board.

    Parameters
    ----------
    *args
        ``spec``: which board and how to reach it: ``"emu:"``, ``"exec:micropython"``, ``"/dev/ttyACM0"``,
        ``"ws://192.168.4.1"``. Default: the ``BELAY_DEVICE`` environment variable, else the one
        attached board. The original belay's positional ``baudrate``, ``user`` and ``password`` may
        follow it.
    startup
        Code run once connected. ``None`` (default) makes the original belay's convenience names
        (``os``, ``time``, ``sleep``, ``machine``, ``Pin``, ``const``, ...), skipping what the
        firmware lacks; ``""`` runs nothing.
    attempts
        Reconnect this many times when the line is lost, replaying recorded setups and definitions
        (default 0: raise `ConnectionLost`).
    retry_calls
        After such a reconnect, run the call that was in flight again (default ``True``, as the
        original belay did: the call runs at least once, and may run twice), or raise
        `ConnectionLost` saying it may or may not have run (``False``: at most once).
    auto_sync_time
        Keep the board's clock related to the host's: `time_offset` and ``return_time=`` work without
        calling `sync_time` (it runs on first use), and results carry the board's time now and then
        to follow drift (default ``True``, as in the original).
    timeout
        Seconds a call may take (default 60); ``None`` waits forever. Override per call.
    soft_reset
        Soft-reset the board on connect, for a fresh heap (default ``True``).
    stream_out
        Where board output goes as it is printed: anything with a ``write(str)`` method (default:
        ``sys.stdout`` at the time of each call; ``None`` discards it).
    pacing
        How code is written to firmware without raw-paste (the micro:bit's, MicroPython before 1.14),
        whose small receive buffer drops what comes too fast: ``(bytes_per_piece, seconds_between)``;
        ``None`` (default) is `belay_core.repl.CLASSIC_PACING`, 16 bytes every 3 ms; ``False`` writes
        each call's code in one piece. Firmware with raw-paste is never paced.
    plugins
        The plugin set to find transports, executers and minifiers in (default: the process-wide one,
        `belay_core.plugins.get_plugins`): tests and embedding programs pass their own.
    **options
        Options for the transport (``baudrate``, ``password``, ...). The original belay's ``baudrate``,
        ``user``, ``password`` and ``exclusive`` are accepted for every transport and passed to the
        ones that use them.

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

    MAX_CMD_HISTORY_LEN: ClassVar[int] = MAX_HISTORY
    """Recorded calls kept for replay (the original belay's name)."""

    def __init__(
        self,
        *args: Any,
        startup: Optional[str] = None,
        attempts: int = 0,
        retry_calls: bool = True,
        auto_sync_time: bool = True,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
        soft_reset: bool = True,
        stream_out: Optional[TextSink] = _UNSET,
        pacing: Pacing = None,
        plugins: Optional[Plugins] = None,
        **options: Any,
    ) -> None:
        from belay_core.plugins import get_plugins, open_transport  # at first use: import belay_core stays light

        self.plugins = get_plugins() if plugins is None else plugins
        spec, options = self._arguments(args, options)
        if spec is None:
            spec = os.environ.get("BELAY_DEVICE") or _discover(self.plugins)
        self.spec = spec
        self.auto_sync_time = auto_sync_time
        resolve_pacing(pacing)  # a bad setting raises before the line opens
        self._executers: dict[str, Executer] = {}
        self._teardowns: list[Callable[[], None]] = []
        self._minifiers: dict[str, Callable[[str], str]] = {}
        self.session = Session(
            open_transport(spec, plugins=self.plugins, **options),
            name=spec,
            startup=CONVENIENCE if startup is None else startup,
            timeout=timeout,
            attempts=attempts,
            retry_calls=retry_calls,
            stream_out=stream_out,
            pacing=pacing,
            max_history=self.MAX_CMD_HISTORY_LEN,
        )
        self.files = BoardFiles(self.session)
        self.session.connect(soft_reset=soft_reset)
        try:
            self._bind_class_methods()
        except BaseException:
            self.session.close()
            raise
        self._at_exit = functools.partial(_close_at_exit, weakref.ref(self))
        atexit.register(self._at_exit)

    @staticmethod
    def _arguments(args: tuple[Any, ...], options: dict[str, Any]) -> tuple[Optional[str], dict[str, Any]]:
        """The spec and the transport options from ``Device(spec, [baudrate, user, password], **options)``."""
        if len(args) > 1 + len(LEGACY_POSITIONAL):
            raise TypeError(
                f"Device takes the spec and at most {len(LEGACY_POSITIONAL)} more positional arguments "
                f"({', '.join(LEGACY_POSITIONAL)}), not {len(args)}"
            )
        options = dict(options)
        for keyword in ("spec", "device"):  # Belay's name, and the original's keyword for the port
            if keyword in options and not args:
                args = (options.pop(keyword),)
        for name, value in zip(LEGACY_POSITIONAL, args[1:]):
            if name in options:
                raise TypeError(f"Device got {name!r} both by position and by keyword")
            options[name] = value
        spec = args[0] if args else None
        if spec is not None and not isinstance(spec, str):
            spec = _spec_of(spec)
        return spec, options

    # ------------------------------------------------------------------------------------------------
    # The session's settings, as the device's
    # ------------------------------------------------------------------------------------------------

    @property
    def implementation(self) -> Implementation:
        """What firmware runs on the board (learned at connect)."""
        return self.session.implementation

    @property
    def timeout(self) -> Optional[float]:
        """Seconds a call may take unless told otherwise; ``None`` waits forever."""
        return self.session.timeout

    @timeout.setter
    def timeout(self, value: Optional[float]) -> None:
        self.session.timeout = value

    @property
    def stream_out(self) -> Optional[TextSink]:
        """Where board output goes unless a call says otherwise."""
        return self.session.stream_out

    @stream_out.setter
    def stream_out(self, value: Optional[TextSink]) -> None:
        self.session.stream_out = value

    @property
    def attempts(self) -> int:
        """Reconnections tried when the line is lost."""
        return self.session.attempts

    @attempts.setter
    def attempts(self, value: int) -> None:
        self.session.attempts = value

    @property
    def board_cache(self) -> dict[str, Any]:
        """What Belay installed on the board for this heap (a hasher, ...); cleared when the heap is."""
        return self.session.board_cache

    def _record(self, record: Optional[bool]) -> bool:
        """``record=None`` records while ``attempts`` is set, as the original belay did."""
        return bool(self.attempts) if record is None else record

    # ------------------------------------------------------------------------------------------------
    # Executers
    # ------------------------------------------------------------------------------------------------

    def _bind_class_methods(self) -> None:
        """Register the ``@Device.<executer>`` methods of this class (and of plain mixins) for the firmware."""
        autoinit: list[Callable[..., Any]] = []
        for name, marked in bindings(type(self), self.implementation.name):
            options = dict(marked.options)
            wants_autoinit = options.pop("autoinit", False)
            host: Callable[..., Any] = self.executer(marked.executer)(marked.function, **options)
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
            cls = self.plugins.get("executers", name).load()
            executer = self._executers[name] = cls(self, name)
        return executer

    def __getattr__(self, name: str) -> Executer:
        if "_executers" not in self.__dict__:
            raise AttributeError(name)
        if name.startswith("_belay_") and name[7:] in self.plugins.records("executers"):
            return self.executer(name[7:])  # the original's private name of each executer
        if name.startswith("_") or name not in self.plugins.records("executers"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self.executer(name)

    # ------------------------------------------------------------------------------------------------
    # Calls
    # ------------------------------------------------------------------------------------------------

    @raised_on_the_board
    def __call__(
        self,
        cmd: Any,
        *,
        minify: Union[bool, str] = True,
        stream_out: Optional[TextSink] = _UNSET,
        record: Optional[bool] = None,
        trusted: bool = False,
        proxy: bool = False,
        delete: Optional[bool] = None,
        with_timing: Optional[bool] = None,
        return_time: bool = False,
        timeout: Optional[float] = _UNSET,
    ) -> Any:
        """Run ``cmd`` on the board.

        Parameters
        ----------
        cmd
            A statement (returns ``None``), an expression (returns its value), or a `ProxyObject` (returns
            the value of the board object it stands for). Indented code is dedented first.
        minify
            Minify ``cmd`` before sending it (``True``, default; or a minifier's name; ``False``).
        stream_out
            Where this call's output goes: anything with a ``write(str)`` method; default the device's.
        record
            Replay this call after a reconnect or soft reset: ``None`` (default) records it when the
            device has ``attempts=``, as the original belay did.
        trusted
            Parse the result with `eval` instead of `ast.literal_eval`, for values whose repr is
            not a literal.
        proxy
            Return a `ProxyObject` for a result that is not a plain value (and, for ``import``
            statements, proxies of the names imported).
        delete
            Whether such a proxy frees the board object when it is garbage-collected: ``None`` frees
            expression results and keeps imports (as the original).
        with_timing
            Carry the board's clock on the result, refining `time_offset`; ``None`` (default) does so
            now and then when ``auto_sync_time`` is on.
        return_time
            Return ``(value, datetime)``: when the value was ready on the board, in host time.
        timeout
            Seconds this call may take; default the device's.

        Returns
        -------
        Any
            The expression's value, or ``None`` for statements.

        Raises
        ------
        DeviceError
            When the code raised on the board; carries the board's traceback.
        DeviceExit
            When the code called ``sys.exit()`` (the device stays usable).
        DeviceTimeoutError
            When the call did not finish in time (the board was interrupted).
        """
        ref = getattr(type(cmd), "__belay_ref__", None)
        if ref is not None:  # a ProxyObject: the board object it stands for
            cmd = ref(cmd)
        code = dedent(cmd)
        if is_expression(code):
            return self.evaluate(
                code,
                trusted=trusted,
                proxy=proxy,
                delete=delete,
                timeout=timeout,
                stream_out=stream_out,
                record=record,
                return_time=return_time,
                with_timing=with_timing,
            )
        if minify and worth_minifying(code):
            code = self.minify(code, minify)
        if proxy:
            names = _imported_names(code)
            if names:
                return self._import_proxies(code, names, bool(delete), timeout, stream_out, record)
        if return_time:
            raise UsageError("return_time=True needs an expression: a statement gives no value to time")
        self.run_statements(code, timeout=timeout, stream_out=stream_out, record=record)
        return None

    def _import_proxies(
        self,
        code: str,
        names: list[str],
        delete: bool,
        timeout: Optional[float] = _UNSET,
        stream_out: Optional[TextSink] = _UNSET,
        record: Optional[bool] = False,
    ) -> Any:
        """Run an import; give a proxy of each non-plain name it binds and the value of each plain one.

        One round trip. A tuple when the import binds several names (``from math import cos, pi``).
        """
        from belay_core.proxy import ProxyObject

        report = f"\n__belay_r(tuple((1,v)if type(v)in __belay_S else(0,0)for v in({','.join(names)},)))"
        frame = self.session.frame(
            code + report, timeout=timeout, stream_out=stream_out, record=self._record(record), user=True
        )
        found = decode(frame)
        results = tuple(
            value if plain else ProxyObject(self, n, delete=delete) for n, (plain, value) in zip(names, found)
        )
        return results[0] if len(results) == 1 else results

    def evaluate(
        self,
        expression: str,
        *,
        trusted: bool = False,
        proxy: bool = False,
        delete: Optional[bool] = None,
        timeout: Optional[float] = _UNSET,
        stream_out: Optional[TextSink] = _UNSET,
        record: Optional[bool] = False,
        return_time: bool = False,
        with_timing: Optional[bool] = None,
    ) -> Any:
        """Evaluate ``expression`` on the board and return its value (see `__call__`).

        Parameters
        ----------
        proxy
            Return a `ProxyObject` for values that are not plain.
        delete
            Whether such a proxy frees the board object when garbage-collected (default ``True``).
        return_time
            Return ``(value, datetime)``: when the value was ready, in host time.
        with_timing
            Carry the board's clock on the result (see `__call__`).
        """
        timed = self.wants_time(with_timing, return_time)
        flags = f"{int(proxy)},1" if timed else f"{int(proxy)}"
        source = f"__belay_r({expression}\n,{flags})"
        return self._evaluate_source(
            source, timeout, stream_out, trusted, record, return_time, timed, delete, with_timing=with_timing
        )

    def _evaluate_source(
        self,
        source: str,
        timeout: Optional[float],
        stream_out: Optional[TextSink],
        trusted: bool,
        record: Optional[bool],
        return_time: bool,
        timed: bool,
        delete: Optional[bool] = None,
        stop_ok: bool = False,
        with_timing: Optional[bool] = None,
    ) -> Any:
        if return_time and self.session.clock.sample is None:
            if self.auto_sync_time:
                self.sync_time()
            elif with_timing is not True:
                raise UsageError(
                    "return_time=True needs the board's clock related to the host's: call device.sync_time() "
                    "first, pass with_timing=True, or connect with auto_sync_time=True"
                )
        sent = time.time() if timed else 0.0
        frame = self.session.frame(
            source, timeout=timeout, stream_out=stream_out, record=self._record(record), user=True, stop_ok=stop_ok
        )
        if timed and frame.ticks is not None:
            self.session.clock.add(frame.ticks, sent, time.time())
        value = self._value(frame, trusted, stop_ok, delete)
        if not return_time or value is StopIteration:
            return value
        if frame.ticks is None:
            raise NotBelayResponseError("the board's result carried no time")
        return value, datetime.fromtimestamp(self.session.clock.host_time(frame.ticks))

    def wants_time(self, with_timing: Optional[bool] = None, return_time: bool = False) -> bool:
        """Whether a result should carry the board's clock (see ``with_timing`` of `__call__`)."""
        if return_time or with_timing:
            return True
        if with_timing is False or not self.auto_sync_time:
            return False
        return self.session.clock.sample is not None and self.session.clock.stale()

    def run_statements(
        self,
        code: str,
        *,
        origin: Optional[SourceOrigin] = None,
        timeout: Optional[float] = _UNSET,
        stream_out: Optional[TextSink] = _UNSET,
        record: Optional[bool] = False,
        defines: Optional[str] = None,
    ) -> None:
        """Run statements on the board; ``origin`` maps ``<module>`` frames of tracebacks to the host.

        ``defines``: the name the code binds and nothing else (see `belay_core.session.Session.run`).
        """
        self.session.run(
            code,
            timeout=timeout,
            stream_out=stream_out,
            record=self._record(record),
            origin=origin,
            user=True,
            defines=defines,
        )

    def step_generator(self, step: str, *, trusted: bool, return_time: bool, timed: bool = False) -> Any:
        """Run one step of a board generator; return its value, or `StopIteration` when it ended.

        ``timed``: the step asks for the board's clock on its result (see `wants_time`).
        """
        return self._evaluate_source(step, _UNSET, _UNSET, trusted, False, return_time, timed, stop_ok=True)

    def define(self, source: FunctionSource, minify: Union[bool, str] = True) -> None:
        """Define a host function on the board (recorded for replay); tracebacks map to its host lines."""
        self.session.origins[source.name] = source.origin
        if mentions_exit(source.code):
            self.session.note_exiter(source.name)
        self.run_statements(self.minify(source.code, minify), origin=source.origin, record=True, defines=source.name)

    def defer(self, code: str) -> None:
        """Run ``code`` before the next call (used by finalizers, which must not talk to the board)."""
        self.session.defer(code)

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
            function = self._minifiers[name] = self.plugins.get("minifiers", name).load()
        return function(code)

    def _value(self, frame: Any, trusted: bool, stop_ok: bool = False, delete: Optional[bool] = None) -> Any:
        """The host value of a frame: a `ProxyObject` for an object the board kept."""
        value = decode(frame, trusted=trusted, stop_ok=stop_ok)
        if isinstance(value, KeptObject):
            from belay_core.proxy import ProxyObject

            return ProxyObject(self, value.ref, delete=True if delete is None else delete, type_name=value.type_name)
        return value

    # ------------------------------------------------------------------------------------------------
    # Proxies
    # ------------------------------------------------------------------------------------------------

    def proxy(self, cmd: str, delete: Optional[bool] = None) -> Any:
        """A `ProxyObject` for the board object ``cmd`` names or evaluates to.

        A name (``"led"``) refers to the board's global of that name, whatever it is bound to later,
        at no cost (no round trip); an import (``"import machine"``, ``"from math import cos, pi"``)
        runs and gives a proxy of each name it binds (a tuple when several); any other expression is
        evaluated once and its result kept on the board for as long as a proxy of it lives. Plain
        values (``"1 + 1"``) give a proxy too.

        Parameters
        ----------
        cmd
            A board name, an import statement or an expression.
        delete
            Whether the board object is freed (``del``) when the last proxy of it is garbage-collected.
            ``None`` (default): names and imports are kept, expression results are freed.
        """
        from belay_core.proxy import ProxyObject

        expression = dedent(cmd).strip()
        if expression.isidentifier():
            return ProxyObject(self, expression, delete=bool(delete))
        names = _imported_names(expression)
        if names:
            return self._import_proxies(expression, names, bool(delete))
        keep = (
            f"__belay_v=(\n{expression}\n)\n__belay_o[id(__belay_v)]=__belay_v\n"
            "__belay_f('P','%d:%s'%(id(__belay_v),__belay_n(type(__belay_v))))\ndel __belay_v"
        )
        frame = self.session.frame(keep, user=True)
        return self._value(frame, False, delete=True if delete is None else delete)

    def proxy_call(self, source: str) -> Any:
        """Run ``source`` (statements ending in a frame printed with ``__belay_f`` or ``__belay_r``): its value."""
        return self._value(self.session.frame(source), False)

    # ------------------------------------------------------------------------------------------------
    # Files (see `belay_core.files.BoardFiles`, also ``device.files``)
    # ------------------------------------------------------------------------------------------------

    def exists(self, path: str) -> bool:
        """Whether ``path`` exists on the board (file or directory)."""
        return self.files.exists(path)

    def is_dir(self, path: str) -> bool:
        """Whether ``path`` is a directory on the board."""
        return self.files.is_dir(path)

    def size(self, path: str) -> int:
        """Size in bytes of the file ``path`` on the board (see `BoardFiles.size`)."""
        return self.files.size(path)

    def listdir(self, path: str = "/") -> list[FileInfo]:
        """The entries of directory ``path`` on the board, sorted by name (see `BoardFiles.listdir`)."""
        return self.files.listdir(path)

    def walk(self, path: str = "/") -> list[FileInfo]:
        """Every file and directory under ``path`` on the board, depth first (see `BoardFiles.walk`)."""
        return self.files.walk(path)

    def df(self) -> DiskUsage:
        """Total and free bytes of the board's file system (see `BoardFiles.df`)."""
        return self.files.df()

    def remove(self, path: str, recursive: bool = False) -> None:
        """Remove a file or directory on the board (see `BoardFiles.remove`)."""
        self.files.remove(path, recursive)

    def mkdir(self, path: str, parents: bool = False) -> None:
        """Make a directory on the board (see `BoardFiles.mkdir`)."""
        self.files.mkdir(path, parents)

    def read_bytes(self, path: str) -> bytes:
        """The contents of a board file (see `BoardFiles.read_bytes`)."""
        return self.files.read_bytes(path)

    def read_text(self, path: str, encoding: str = "utf-8") -> str:
        """The text of a board file (see `BoardFiles.read_text`)."""
        return self.files.read_text(path, encoding)

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write a board file (see `BoardFiles.write_bytes`)."""
        self.files.write_bytes(path, data)

    def write_text(self, path: str, text: str, encoding: str = "utf-8") -> None:
        """Write text to a board file (see `BoardFiles.write_text`)."""
        self.files.write_text(path, text, encoding)

    def put(self, local: LocalPath, remote: str = ".", *, progress: Optional[TransferProgress] = None) -> list[str]:
        """Copy a host file or folder to the board (see `BoardFiles.put`)."""
        return self.files.put(local, remote, progress=progress)

    def get(self, remote: str, local: LocalPath = ".", *, progress: Optional[TransferProgress] = None) -> list[Path]:
        """Copy a board file or folder to the host (see `BoardFiles.get`)."""
        return self.files.get(remote, local, progress=progress)

    # ------------------------------------------------------------------------------------------------
    # Sync
    # ------------------------------------------------------------------------------------------------

    def sync(
        self,
        folder: Union[str, os.PathLike[str]],
        dst: str = "/",
        keep: Union[str, list[str], bool, None] = None,
        ignore: Union[str, list[str], None] = None,
        minify: Union[bool, str] = True,
        mpy_cross: Union[bool, str, os.PathLike[str], None] = None,
        dry_run: bool = False,
        progress: Optional[Callable[[str, int, int], None]] = None,
        *,
        mpy_cross_binary: Union[str, os.PathLike[str], None] = None,
        progress_update: Optional[Callable[..., Any]] = None,
        confirm: Optional[Callable[[Any], bool]] = None,
        byte_progress: Optional[TransferProgress] = None,
    ) -> Any:
        """Make ``dst`` on the board hold exactly the files of ``folder``, sending only what changed.

        Parameters
        ----------
        folder
            Host folder to sync, or a single file (put in ``dst``; nothing is deleted).
        dst
            Board folder (absolute). Nothing outside it is ever touched.
        keep
            Paths relative to ``dst`` never removed. Default: ``boot.py``, ``webrepl_cfg.py`` and ``lib``
            when ``dst`` is ``/``, else nothing. ``True`` removes nothing; ``False`` keeps nothing.
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
        mpy_cross_binary, progress_update
            The original belay's names: a mpy-cross binary (as ``mpy_cross=``), and a
            ``rich.progress.Progress.update``-like callable (``description=``, ``total=``, ``advance=``).
        confirm
            Called with the `SyncPlan` once it is known, before anything changes; returning ``False``
            cancels the sync (`belay_core.sync.SyncCancelled`, nothing changed). ``belay sync`` asks
            before deleting with it.
        byte_progress
            ``byte_progress(path, done, size)`` as files are written: bytes, as `put`'s ``progress``
            (``plan.upload_bytes`` is the total).

        Returns
        -------
        SyncPlan
            What was (or, with ``dry_run``, would be) uploaded, deleted, kept unchanged and created.
        """
        from belay_core.sync import sync

        if mpy_cross_binary is not None:
            mpy_cross = mpy_cross_binary
        if progress_update is not None and progress is None:
            progress = _rich_progress(progress_update)
        with self.session.lock:
            return sync(
                self,
                folder,
                dst,
                keep,
                ignore,
                minify,
                mpy_cross,
                dry_run,
                progress,
                confirm=confirm,
                byte_progress=byte_progress,
            )

    def sync_dependencies(
        self, package: Union[str, Any], *subfolders: Union[str, os.PathLike[str]], dst: str = "/lib", **kwargs: Any
    ) -> Any:
        """Sync folders bundled in a host Python ``package`` to ``dst`` (default ``/lib``).

        Only files this package put there before are ever removed: calls for other packages, and
        other files in ``dst``, are left alone.
        """
        from belay_core.sync import sync_dependencies

        with self.session.lock:
            return sync_dependencies(self, package, *subfolders, dst=dst, **kwargs)

    # ------------------------------------------------------------------------------------------------
    # Time
    # ------------------------------------------------------------------------------------------------

    def sync_time(self, samples: int = 10) -> float:
        """Measure the offset between the board's millisecond clock and the host's clock.

        Up to ``samples`` round trips read the board's clock; the one with the shortest round trip wins
        (its delay is the most symmetric). It stops early, after at least five, once three in a row
        are no better than the best, as the original belay does.

        Returns
        -------
        float
            `time_offset`: board seconds minus host seconds.
        """
        clock = self.session.clock
        clock.reset()
        best = float("inf")
        calm = 0
        for index in range(max(1, samples)):
            sent = time.time()
            ticks = self.session.value(f"__belay_r({TICKS})")
            received = time.time()
            clock.add(ticks, sent, received)
            trip = received - sent
            if trip < best - 0.002:
                best, calm = min(best, trip), 0
            else:
                best = min(best, trip)
                calm += 1
                if calm >= 3 and index >= 4:
                    break
        return self.time_offset

    @property
    def time_offset(self) -> float:
        """Board clock minus host clock, in seconds.

        With ``auto_sync_time`` (the default) the first use measures it (`sync_time`) and results
        refine it later.

        Raises
        ------
        UsageError
            A `ValueError` too, as in the original: ``auto_sync_time=False`` and `sync_time` never called.
        """
        offset = self.session.clock.offset
        if offset is None:
            if not self.auto_sync_time:
                raise UsageError(
                    "time is not synchronized: call device.sync_time() first (or connect with auto_sync_time=True)"
                )
            self.sync_time()
            offset = self.session.clock.offset
            assert offset is not None
        return offset

    # ------------------------------------------------------------------------------------------------
    # Life cycle
    # ------------------------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether `close` was called."""
        return self.session.closed

    @property
    def round_trips(self) -> int:
        """Round trips to the board since connecting (connect included)."""
        return self.session.round_trips

    @property
    def bytes_written(self) -> int:
        """Bytes written to the board since connecting."""
        return self.session.bytes_written

    def soft_reset(self) -> None:
        """Soft-reset the board (fresh heap, same files) and keep the device usable.

        Task definitions and recorded setups (autoinit ones included) are replayed.
        """
        self.session.soft_reset()

    def mount(
        self,
        local: Union[str, os.PathLike[str]],
        mountpoint: str = "/remote",
        *,
        readonly: bool = False,
        chdir: bool = True,
    ) -> Mount:
        """Make host folder ``local`` a directory of the board, served over the line, as mpremote's ``mount``.

        The board reads and writes the host's files as its own while the code Belay sends runs:
        ``open``, ``os.listdir``, ``os.stat`` and ``import`` work on ``mountpoint``, and with ``chdir``
        (the default) it becomes the board's current directory, so ``import main`` imports the host's
        ``main.py``. A soft reset keeps the mount (it is replayed).

        Parameters
        ----------
        local
            The host folder.
        mountpoint
            Where it appears on the board (default ``/remote``).
        readonly
            Refuse every change with ``OSError(EROFS)``.
        chdir
            Make ``mountpoint`` the board's current directory.

        Returns
        -------
        Mount
            Use it as a context manager, or call ``unmount()``.

        Raises
        ------
        FeatureUnavailableError
            On firmware without ``os.mount`` or ``io.IOBase`` (the micro:bit's).

        Examples
        --------
        >>> with device.mount("src"):
        ...     device("import main")
        """
        from belay_core.mount import Mount

        return Mount(self.session, local, mountpoint, readonly=readonly, chdir=chdir)

    def hard_reset(self) -> None:
        """Reset the board as its reset button would, reconnect, and keep the device usable.

        Runs ``machine.reset()`` and reconnects once the board is back (a USB board leaves and comes
        back: up to ten tries, a second apart); an emulated or ``exec:`` board is started afresh. RAM
        is lost, files are kept; task definitions and recorded setups are replayed, as after
        `soft_reset`.

        Raises
        ------
        FeatureUnavailableError
            When the firmware has no ``machine.reset()`` and Belay cannot restart the board itself.
        """
        self.session.hard_reset()

    def rtc(self) -> datetime:
        """The board's date and time: its ``machine.RTC()``, else its ``time.localtime()``.

        Raises
        ------
        FeatureUnavailableError
            When the board keeps no date (no ``machine.RTC`` and no ``time.localtime``, the micro:bit).
        """
        found = self.session.value(_READ_RTC)
        if found is None:
            raise FeatureUnavailableError(f"{self.spec!r} keeps no date and time (no machine.RTC, no time.localtime)")
        year, month, day, _weekday, hour, minute, second = found[:7]
        return datetime(year, month, day, hour, minute, second)

    def set_rtc(self, when: Optional[datetime] = None) -> datetime:
        """Set the board's real-time clock (``machine.RTC().datetime(...)``), as ``mpremote rtc --set`` does.

        Parameters
        ----------
        when
            The date and time to set; default the host's local time now.

        Returns
        -------
        datetime
            What was set (to the second).

        Raises
        ------
        FeatureUnavailableError
            When the firmware has no ``machine.RTC`` (the unix and WebAssembly ports, the micro:bit).
        """
        when = (when or datetime.now()).replace(microsecond=0)
        fields = (when.year, when.month, when.day, when.weekday(), when.hour, when.minute, when.second, 0)
        done = self.session.value(_SET_RTC.format(fields=fields))
        if not done:
            raise FeatureUnavailableError(f"{self.spec!r} has no machine.RTC to set")
        return when

    def terminal(self, *, exit_char: str = chr(0x1D)) -> None:
        """The board's own REPL at this terminal until ``exit_char`` (Ctrl-], as the original belay).

        Keys go to the board as typed; the host terminal is in raw mode for the session. Afterwards
        the device is back in the raw REPL; if the board was reset meanwhile (Ctrl-D), Belay's helpers,
        start-up code and recorded calls are restored, as after `soft_reset`.
        """
        import sys

        from belay_core.errors import ConnectionLost
        from belay_core.terminal import TerminalSession, raw_stdin

        def converse(transport: Any) -> None:
            stdin_fd = sys.stdin.fileno()
            drain = 0.2 if os.isatty(stdin_fd) else 1.0
            scan = self.session.request_scanner()  # a mounted folder stays served at the REPL
            session = TerminalSession(transport, stdin_fd, sys.stdout.buffer, drain, exit_char.encode(), scan)
            with raw_stdin(stdin_fd):
                session.run()
            if session.lost is not None:
                raise ConnectionLost(f"the line to {self.spec!r} was lost during the terminal session: {session.lost}")

        self.session.interactive(converse)

    def reconnect(self, attempts: Optional[int] = None) -> None:
        """Open the line again (restarting an emulated or ``exec:`` board) and replay recorded code.

        Parameters
        ----------
        attempts
            Tries, one second apart; default the device's ``attempts`` (at least 1).
        """
        self.session.reconnect(attempts=attempts)

    def close(self) -> None:
        """Run the teardowns, leave the raw REPL and close the line; closing twice is harmless."""
        with self.session.lock:
            if self.session.closed:
                return
            atexit.unregister(self._at_exit)
            try:
                # The teardown executer's functions in definition order (replaceable in its
                # ``_belay_executers``, as in the original), then any a plugin added.
                defined = self._executers["teardown"].defined if "teardown" in self._executers else []
                for teardown in [*defined, *self._teardowns]:
                    teardown()
            finally:
                self.session.close()

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<{type(self).__name__} {self.spec!r} {state}>"


set_base(Device)


def _imported_names(code: str) -> list[str]:
    """The names an import statement binds (``import a.b as c`` binds ``c``, ``import a.b`` binds ``a``)."""
    if not code.lstrip().startswith(("import ", "from ")) or "*" in code:
        return []
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in tree.body:
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            return []
        for alias in node.names:
            names.append(alias.asname or (alias.name if isinstance(node, ast.ImportFrom) else alias.name.split(".")[0]))
    return names


def _spec_of(value: Any) -> str:
    """A device spec from what the original belay also took as a port: a USB specifier, a path."""
    to_spec = getattr(value, "to_spec", None)
    if callable(to_spec):
        return str(to_spec())
    if isinstance(value, os.PathLike):
        return os.fsdecode(value)
    raise TypeError(f"a device spec is a string (or a UsbSpecifier), not {type(value).__name__}")


def _rich_progress(update: Callable[..., Any]) -> Callable[[str, int, int], None]:
    """Adapt the original belay's ``progress_update`` (a ``Progress.update`` partial) to ``progress``."""
    started = [False]

    def progress(path: str, done: int, total: int) -> None:
        if not started[0]:
            started[0] = True
            update(total=total)
        update(description=f"Pushing: {path.lstrip('/')}", advance=1)

    return progress


__all__ = ["ARCHITECTURES", "DEFAULT_TIMEOUT", "Device", "DeviceMeta", "Implementation"]
