"""`Device`: a connection to one board, the object users program against."""

from __future__ import annotations

import ast
import atexit
import functools
import inspect
import os
import re
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Optional, Union

from attrs import define, field

from belay_core import _board
from belay_core._output import Frame, ResultFilter
from belay_core.errors import (
    ConnectionLost,
    DefinitionError,
    DeviceClosedError,
    DeviceExit,
    DeviceResetError,
    DeviceSpecError,
    MaxHistoryLengthError,
    NoMatchingExecuterError,
    NotBelayResponseError,
    UsageError,
)
from belay_core.executers import Executer, ExecuterMarker, FunctionSource, MarkedFunction
from belay_core.files import FilesMixin
from belay_core.repl import Pacing, RawRepl, resolve_pacing
from belay_core.sentinels import UNPARSABLE_RESULT
from belay_core.source import catch_exit, dedent, escape_controls, mentions_exit, worth_minifying
from belay_core.timesync import TimeSync
from belay_core.tracebacks import SourceOrigin, device_error, remap, unwrap_exit_frames
from belay_core.transport import Transport

if TYPE_CHECKING:
    from belay_core._output import TextSink

DEFAULT_TIMEOUT = 60.0
"""Seconds a call may take unless told otherwise (generous: boards are slow, networks are slower)."""

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


def _arch(value: Union[str, int, None]) -> Optional[str]:
    """An architecture name; an int is a ``sys.implementation._mpy`` value, as the original took."""
    if value is None or isinstance(value, str):
        return value
    index = (int(value) >> 10) & 0xF
    return ARCHITECTURES[index] if index < len(ARCHITECTURES) else f"arch{index}"


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
        has none or does not say. An int is read as ``sys.implementation._mpy``, as in the original.
    emitters
        Code emitters available besides bytecode: ``("native", "viper")``, or ``()``.
    mpy_version, mpy_sub_version
        The ``.mpy`` format the firmware loads; ``None`` when it does not say.
    features
        Optional firmware features found: ``"thread"`` (``_thread``).
    """

    name: str
    version: tuple[int, ...] = (0, 0, 0)
    platform: str = ""
    arch: Optional[str] = field(default=None, converter=_arch)
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
"""Bytes of start-up code sent in one exec to firmware without raw-paste. Not for its receive buffer
(the engine paces such input, see `belay_core.repl.CLASSIC_PACING`) but for its heap: compiled in one
piece, the start-up code left the micro:bit's 9 KiB heap with 1.2 KB free instead of 3.2 KB, as fast."""


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
    if code.isidentifier() or code.isdigit():
        return True
    try:
        ast.parse(code, mode="eval")
    except SyntaxError:
        return False
    return True


# --------------------------------------------------------------------------------------------------
# Class-level decorators, overloads and the registry of subclasses
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
                    raise DefinitionError(f"{key!r}: an overload follows the catch-all (no implementation=) one")
                prior.append(value)
                return
            if prior is not None:
                raise DefinitionError(f"{key!r} is defined both as an executer method and as a plain attribute")
            value = _OverloadList([value])
        elif isinstance(prior, _OverloadList):
            raise DefinitionError(f"{key!r} is defined both as an executer method and as a plain attribute")
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


_REGISTRY_OPTIONS = frozenset({"case_sensitive", "snake_case", "hyphen", "prefix", "suffix", "strip_prefix",
                               "strip_suffix", "overwrite", "recursive", "register_self", "transform", "regex",
                               "redirect"})  # fmt: skip
"""Class keywords of the original belay's registry (autoregistry) that `DeviceMeta` accepts."""


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


@define(eq=False, repr=False)
class _Registry:
    """The subclasses registered under one `Device` class, and how their names are made."""

    owner_name: str
    config: dict[str, Any]
    entries: dict[str, type] = field(factory=dict)
    counted: bool = True

    def key(self, name: str) -> str:
        config = self.config
        pattern = config.get("regex") or ""
        if pattern and not re.match(pattern, name):
            raise DefinitionError(f"{name!r} does not match the registry's regex {pattern!r}")
        prefix, suffix = config.get("prefix") or "", config.get("suffix") or ""
        if not name.startswith(prefix):
            raise DefinitionError(f"{name!r} must start with {prefix!r}")
        if not name.endswith(suffix):
            raise DefinitionError(f"{name!r} must end with {suffix!r}")
        if prefix and config.get("strip_prefix", True):
            name = name[len(prefix) :]
        if suffix and config.get("strip_suffix", True):
            name = name[: -len(suffix)]
        if config.get("snake_case"):
            name = _snake(name)
        if config.get("hyphen"):
            name = name.replace("_", "-")
        transform = config.get("transform")
        if transform is not None:
            name = transform(name)
        return self.fold(name)

    def fold(self, key: str) -> str:
        return key if self.config.get("case_sensitive") else key.lower()

    def add(self, key: str, cls: type) -> None:
        # A later class of the same name replaces the earlier one, as a redefined function does (a
        # notebook cell run twice, a test module imported twice); the original belay refused it.
        self.entries[key] = cls


class DeviceMeta(type):
    """Metaclass of `Device`: class-level executer decorators, overloads, and the registry of subclasses.

    Subclasses register themselves by name in every `Device` class above them, so ``Device["mydevice"]``
    finds ``class MyDevice(Device)`` (names are case-insensitive by default). Class keywords, as the
    original belay's registry takes them: ``name=``, ``aliases=``, ``skip=True`` (not registered), and
    the naming options ``case_sensitive``, ``snake_case``, ``hyphen``, ``prefix``, ``suffix``,
    ``strip_prefix``, ``strip_suffix``, ``regex``, ``transform``, ``overwrite``, ``recursive``,
    ``register_self``, ``redirect``, which apply to the classes registered under the new one.
    """

    __registry__: _Registry

    @classmethod
    def __prepare__(mcs, cls_name: str, bases: tuple[type, ...], /, **kwargs: Any) -> dict[str, Any]:
        return _ClassNamespace()

    def __new__(
        mcs,
        cls_name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        /,
        *,
        name: Optional[str] = None,
        aliases: Union[str, list[str], tuple[str, ...], None] = None,
        skip: bool = False,
        base: bool = False,
        **config: Any,
    ) -> DeviceMeta:
        unknown = set(config) - _REGISTRY_OPTIONS
        if unknown:
            raise TypeError(f"class {cls_name}: unknown class keyword(s) {', '.join(sorted(unknown))}")
        converted = {k: _ExecuterMethod(v) if isinstance(v, _OverloadList) else v for k, v in namespace.items()}
        cls = super().__new__(mcs, cls_name, bases, converted)
        parents = [b.__registry__ for b in bases if isinstance(b, DeviceMeta)]
        inherited = dict(parents[0].config) if parents else {}
        own_key = parents[0].key(cls_name) if parents and name is None else name
        inherited.update(config)
        cls.__registry__ = _Registry(cls_name, inherited, counted=not base)
        if skip or not parents:
            return cls
        names = [own_key or cls_name]
        if isinstance(aliases, str):
            names.append(aliases)
        elif aliases:
            names.extend(aliases)
        if cls.__registry__.config.get("register_self"):
            for key in names:
                cls.__registry__.add(cls.__registry__.fold(key), cls)
        for ancestor in _registering_ancestors(cls, inherited):
            for key in names:
                ancestor.__registry__.add(ancestor.__registry__.fold(key), cls)
        return cls

    def mro(cls) -> list[type]:
        order = super().mro()
        device = _DEVICE_CLASS[0] if _DEVICE_CLASS else None
        if device is None or device not in order or cls is device:
            return order
        # Like the original belay: Device (and its own bases) go last, so mixins come before it.
        tail = [k for k in device.__mro__ if k is not object]
        head = [k for k in order if k not in tail and k is not object]
        return [*head, *tail, object]

    def __getattr__(cls, name: str) -> ExecuterMarker:
        if not name.startswith("_"):
            from belay_core.plugins import get_plugins

            if name in get_plugins().records("executers"):
                return ExecuterMarker(name)
        raise AttributeError(f"type object {cls.__name__!r} has no attribute {name!r}")

    # The registry, as a mapping on the class: Device["name"], "name" in Device, Device.keys() ...

    def __getitem__(cls, key: str) -> type:
        registry: Any = cls
        for part in re.split(r"[./]", key):
            if not isinstance(registry, DeviceMeta):
                raise KeyError(key)
            registry = registry.__registry__.entries[registry.__registry__.fold(part)]
        return registry  # type: ignore[no-any-return]

    def __contains__(cls, key: object) -> bool:
        try:
            cls[key]  # type: ignore[index]
        except (KeyError, TypeError):
            return False
        return True

    def __iter__(cls) -> Iterator[str]:
        return iter(cls.__registry__.entries)

    def __len__(cls) -> int:
        return len(cls.__registry__.entries)

    def keys(cls) -> Any:
        """Names of the registered subclasses."""
        return cls.__registry__.entries.keys()

    def values(cls) -> Any:
        """The registered subclasses."""
        return cls.__registry__.entries.values()

    def items(cls) -> Any:
        """``(name, subclass)`` pairs."""
        return cls.__registry__.entries.items()

    def __repr__(cls) -> str:
        return f"<{cls.__name__}: {list(cls.__registry__.entries)}>"


def _registering_ancestors(cls: type, config: dict[str, Any]) -> list[type]:
    """The `Device` classes ``cls`` registers in: its direct bases, and further up while ``recursive``."""
    found: list[type] = []
    pending = [b for b in cls.__bases__ if isinstance(b, DeviceMeta)]
    while pending:
        klass = pending.pop(0)
        if klass in found or not klass.__registry__.counted:
            continue
        found.append(klass)
        if klass.__registry__.config.get("recursive", True) and config.get("recursive", True):
            pending.extend(b for b in klass.__bases__ if isinstance(b, DeviceMeta))
    return found


_DEVICE_CLASS: list[type] = []
"""`Device` once defined (its metaclass reorders the MRO of subclasses around it)."""


# --------------------------------------------------------------------------------------------------
# Device
# --------------------------------------------------------------------------------------------------

LEGACY_POSITIONAL = ("baudrate", "user", "password")
"""Transport options the original belay took positionally after the port: ``Device(port, 115200)``."""

LEGACY_OPTIONS = frozenset({"baudrate", "user", "password", "exclusive"})
"""The original belay's connection keywords: each goes to a transport that uses it and is ignored
elsewhere, as the original ignored ``baudrate`` for a network board."""


def _close_at_exit(ref: weakref.ReferenceType[Device]) -> None:
    device = ref()
    if device is not None:
        try:
            device.close()
        except Exception:  # the interpreter is exiting: nothing to report to
            pass


class Device(FilesMixin, metaclass=DeviceMeta):
    """A connection to one MicroPython or CircuitPython board.

    Parameters
    ----------
    spec
        Which board and how to reach it: ``"emu:"``, ``"exec:micropython"``, ``"/dev/ttyACM0"``,
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
        auto_sync_time: bool = True,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
        soft_reset: bool = True,
        stream_out: Optional[TextSink] = _UNSET,
        pacing: Pacing = None,
        **options: Any,
    ) -> None:
        spec, options = self._arguments(args, options)
        if spec is None:
            spec = os.environ.get("BELAY_DEVICE") or _discover()
        self.spec = spec
        self.timeout = timeout
        self.stream_out = stream_out
        self.attempts = attempts
        self.auto_sync_time = auto_sync_time
        resolve_pacing(pacing)  # a bad setting raises before the line opens
        self._pacing = pacing
        self._startup = _board.CONVENIENCE if startup is None else startup
        self._token = "".join(chr(97 + byte % 26) for byte in os.urandom(4))
        self._lock = threading.RLock()
        self._closed = False
        self._executers: dict[str, Executer] = {}
        self._origins: dict[str, SourceOrigin] = {}
        self._history: list[str] = []
        self._history_full = False
        self._teardowns: list[Callable[[], None]] = []
        self._deferred: list[str] = []
        self._minifiers: dict[str, Callable[[str], str]] = {}
        self._time = TimeSync()
        self._exiters: set[str] = set()
        self._caught_exit = False
        self._reconnecting = False
        # What Belay installed on the board for this connection (a hasher, ...); cleared with the heap.
        self.board_cache: dict[str, Any] = {}
        self._transport = self._make_transport(spec, options)
        self._transport.open()
        try:
            self._repl = RawRepl(self._transport, pacing=self._pacing)
            self._connect(soft_reset and self._transport.soft_reset_on_connect)
            self._bind_class_methods()
        except BaseException:
            self._transport.close()
            self._closed = True
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

    @staticmethod
    def _make_transport(spec: str, options: dict[str, Any]) -> Transport:
        from belay_core.plugins import get_plugins

        record = get_plugins().transport_for(spec)
        cls = record.load()
        if LEGACY_OPTIONS.intersection(options):
            used = set(getattr(cls, "legacy_options", ()))
            named = inspect.signature(cls.__init__).parameters.values()
            used.update(p.name for p in named if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
            options = {k: v for k, v in options.items() if k not in LEGACY_OPTIONS or k in used}
        return cls(spec, **options)

    def _connect(self, soft_reset: bool) -> None:
        """Enter the raw REPL, define the helpers, run start-up, learn the firmware: 3 round trips."""
        self._repl.enter(soft_reset=soft_reset)
        self._start()

    def _start(self) -> None:
        """Define the helpers, run start-up and learn the firmware: one round trip where raw-paste exists.

        Firmware without raw-paste gets the code in pieces of at most `CLASSIC_PIECE` bytes, each
        acknowledged before the next, which leaves a small heap more room (see there).
        """
        code = _board.HELPERS.format(token=self._token) + self._startup + "\n__belay_r(__belay_i())\ndel __belay_i"
        pieces = [code] if self._repl.raw_paste else _top_level_pieces(code, CLASSIC_PIECE)
        for piece in pieces[:-1]:
            self._run(piece, self.timeout, False, False)
        self.implementation = Implementation.from_board(self._run(pieces[-1], self.timeout, True, False))

    def _bind_class_methods(self) -> None:
        """Register the ``@Device.<executer>`` methods of this class (and of plain mixins) for the firmware."""
        seen: set[str] = set()
        chosen: list[tuple[str, MarkedFunction]] = []
        for klass in type(self).__mro__:
            for name, value in vars(klass).items():
                if name in seen:
                    continue
                if isinstance(value, _ExecuterMethod):
                    marked = value.choose(self.implementation.name)
                elif isinstance(value, MarkedFunction):  # in a plain mixin class
                    marked = value if value.implementation in (None, self.implementation.name) else None
                else:
                    if not name.startswith("__"):
                        seen.add(name)  # a plain attribute hides what a class further down defines
                    continue
                if marked is not None:  # else a base class may have a fitting one (as the original)
                    seen.add(name)
                    chosen.append((name, marked))
        chosen.sort(key=lambda item: item[1].order)  # definition order: base classes first, then top to bottom
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
        if "_executers" not in self.__dict__:
            raise AttributeError(name)
        if name.startswith("_belay_"):  # the original's private name of each executer
            from belay_core.plugins import get_plugins

            if name[7:] in get_plugins().records("executers"):
                return self.executer(name[7:])
        if name.startswith("_"):
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
        if _is_expression(code):
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
        found = self._run(code + report, self._timeout(timeout), True, False, stream_out, record=record, user=True)
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
        if return_time and self._time.sample is None:
            if self.auto_sync_time:
                self.sync_time()
            elif with_timing is not True:
                raise UsageError(
                    "return_time=True needs the board's clock related to the host's: call device.sync_time() "
                    "first, pass with_timing=True, or connect with auto_sync_time=True"
                )
        sent = time.time() if timed else 0.0
        frame = self._run(
            source, self._timeout(timeout), True, trusted, stream_out, record=record, user=True, raw_frame=True
        )
        if timed and frame.ticks is not None:
            self._time.add(frame.ticks, sent, time.time())
        value = self._parse(frame, trusted, stop_ok, delete)
        if not return_time or value is StopIteration:
            return value
        if frame.ticks is None:
            raise NotBelayResponseError("the board's result carried no time")
        return value, datetime.fromtimestamp(self._time.host_time(frame.ticks))

    def wants_time(self, with_timing: Optional[bool] = None, return_time: bool = False) -> bool:
        """Whether a result should carry the board's clock (see ``with_timing`` of `__call__`)."""
        if return_time or with_timing:
            return True
        if with_timing is False or not self.auto_sync_time:
            return False
        return self._time.sample is not None and self._time.stale()

    def run_statements(
        self,
        code: str,
        *,
        origin: Optional[SourceOrigin] = None,
        timeout: Optional[float] = _UNSET,
        stream_out: Optional[TextSink] = _UNSET,
        record: Optional[bool] = False,
    ) -> None:
        """Run statements on the board; ``origin`` maps ``<module>`` frames of tracebacks to the host."""
        self._run(code, self._timeout(timeout), False, False, stream_out, record=record, origin=origin, user=True)

    def step_generator(self, step: str, *, trusted: bool, return_time: bool, timed: bool = False) -> Any:
        """Run one step of a board generator; return its value, or `StopIteration` when it ended.

        ``timed``: the step asks for the board's clock on its result (see `wants_time`).
        """
        return self._evaluate_source(step, _UNSET, _UNSET, trusted, False, return_time, timed, stop_ok=True)

    def define(self, source: FunctionSource, minify: Union[bool, str] = True) -> None:
        """Define a host function on the board (recorded for replay); tracebacks map to its host lines."""
        self._origins[source.name] = source.origin
        if mentions_exit(source.code):
            self._exiters.add(source.name)
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
        stream_out: Optional[TextSink] = _UNSET,
        *,
        record: Optional[bool] = False,
        origin: Optional[SourceOrigin] = None,
        stop_ok: bool = False,
        user: bool = False,
        raw_frame: bool = False,
    ) -> Any:
        stream = self.stream_out if stream_out is _UNSET else stream_out
        if user:
            source = escape_controls(source)
            if mentions_exit(source, self._exiters):
                source = catch_exit(source)
                self._caught_exit = True
        if record is None:
            record = bool(self.attempts)
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
            if stderr and _HELPER_LOST.match(stderr.decode("utf-8", "replace").replace("\r\n", "\n")):
                # The board lost Belay's helpers behind its back (reset from a terminal, a watchdog):
                # nothing of the call ran (the helper is its first name), so restore them and run it.
                self._deferred.clear()
                self._replay()
                output = self._output(stream)
                stderr = self._repl.exec(source.encode(), timeout=timeout, on_stdout=output)
            frame = output.finish()
            exit_frame = output.exit_frame
            rebooted = self._repl.soft_rebooted
            if self._repl.reset_in_call:
                self._deferred.clear()
                self._replay()
                raise DeviceResetError(
                    f"the board {self.spec!r} restarted while the call ran (its firmware crashed or it was reset); "
                    "Belay restored its helpers, start-up code and recorded calls"
                )
            if rebooted or exit_frame is not None:
                self._board_exited(exit_frame, rebooted)
            if record and not stderr:
                self._record(source)
        if stderr:
            text = stderr.decode("utf-8", errors="replace")
            if self._caught_exit:
                text = unwrap_exit_frames(text)
            raise device_error(remap(text, self._origins, origin))
        if not expression:
            return None
        if frame is None or frame.kind == "X":
            if not rebooted and not stop_ok:
                # Firmware that does not reboot on SystemExit (MicroPython 1.9) ends the call silently.
                raise DeviceExit(known=False)
            raise NotBelayResponseError("the board printed no result for the expression")
        return frame if raw_frame else self._parse(frame, trusted, stop_ok)

    def _board_exited(self, exit_frame: Optional[Frame], rebooted: bool) -> None:
        """The call ended in ``SystemExit``: restore what the reboot took, then raise `DeviceExit`."""
        code: Any = None
        if exit_frame is not None:
            try:
                code = ast.literal_eval(exit_frame.payload)
            except (ValueError, SyntaxError):
                code = exit_frame.payload
        if rebooted:
            self._deferred.clear()
            self._replay()
        raise DeviceExit(code, known=exit_frame is not None, rebooted=rebooted)

    def _record(self, source: str) -> None:
        if len(self._history) < self.MAX_CMD_HISTORY_LEN:
            self._history.append(source)
        else:
            self._history_full = True

    def _output(self, stream: Optional[TextSink]) -> ResultFilter:
        origins = self._origins
        return ResultFilter(
            sys.stdout if stream is _UNSET else stream,
            (lambda line: remap(line, origins)) if origins else None,
            token=self._token.encode(),
        )

    def _parse(self, frame: Frame, trusted: bool, stop_ok: bool = False, delete: Optional[bool] = None) -> Any:
        kind, payload = frame.kind, frame.payload
        if kind == "S" and stop_ok:
            return StopIteration
        if kind == "P":
            from belay_core.proxy import ProxyObject

            ident, _, type_name = payload.partition(":")
            owned = True if delete is None else delete
            return ProxyObject(self, f"__belay_o[{ident}]", delete=owned, type_name=type_name)
        if kind == "O":
            type_name, _, text = payload.partition(":")
            if trusted:
                return eval(text)
            view = text.partition("(")[0]
            if view in _VIEWS and text.endswith(")"):
                try:  # the original's extended literal_eval: a dict view comes back as a list
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
        frame = self._run(keep, self._timeout(_UNSET), True, False, raw_frame=True, user=True)
        return self._parse(frame, False, delete=True if delete is None else delete)

    def proxy_call(self, source: str) -> Any:
        """Run ``source`` (statements ending in a frame printed with ``__belay_f`` or ``__belay_r``): its value."""
        return self._run(source, self.timeout, True, False)

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

        Up to ``samples`` round trips read the board's clock; the one with the shortest round trip wins
        (its delay is the most symmetric). It stops early, after at least five, once three in a row
        are no better than the best, as the original belay does.

        Returns
        -------
        float
            `time_offset`: board seconds minus host seconds.
        """
        self._time.reset()
        best = float("inf")
        calm = 0
        for index in range(max(1, samples)):
            sent = time.time()
            ticks = self._run(f"__belay_r({_board.TICKS})", self.timeout, True, False)
            received = time.time()
            self._time.add(ticks, sent, received)
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
        offset = self._time.offset
        if offset is None:
            if not self.auto_sync_time:
                raise UsageError(
                    "time is not synchronized: call device.sync_time() first (or connect with auto_sync_time=True)"
                )
            self.sync_time()
            offset = self._time.offset
            assert offset is not None
        return offset

    def _ensure_time_sync(self) -> None:
        if self._time.sample is None:
            self.sync_time()

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
        """Define the helpers, run start-up and replay recorded code, after a fresh heap.

        Raises
        ------
        MaxHistoryLengthError
            When more calls were recorded than `MAX_CMD_HISTORY_LEN`: the replay stops short of the
            latest state, so it is refused (the helpers and start-up code are restored).
        """
        self._start()
        self._time.reset()
        self.board_cache.clear()
        if self._history_full:
            raise MaxHistoryLengthError(
                f"more than {self.MAX_CMD_HISTORY_LEN} calls were recorded for replay, so the board's state cannot "
                "be restored; record fewer calls (record=False) or raise Device.MAX_CMD_HISTORY_LEN"
            )
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

    def terminal(self, *, exit_char: str = chr(0x1D)) -> None:
        """The board's own REPL at this terminal until ``exit_char`` (Ctrl-], as the original belay).

        Keys go to the board as typed; the host terminal is in raw mode for the session. Afterwards
        the device is back in the raw REPL; if the board was reset meanwhile (Ctrl-D), Belay's helpers,
        start-up code and recorded calls are restored, as after `soft_reset`.
        """
        import sys as _sys

        from belay_core.terminal import TerminalSession, raw_stdin

        with self._lock:
            if self._closed:
                raise DeviceClosedError(f"the device {self.spec!r} is closed")
            self._repl.exit()
            self._transport.write(b"\r")  # the friendly prompt, for the person at the keyboard
            stdin_fd = _sys.stdin.fileno()
            session = TerminalSession(
                self._transport, stdin_fd, _sys.stdout.buffer, 0.2 if os.isatty(stdin_fd) else 1.0, exit_char.encode()
            )
            with raw_stdin(stdin_fd):
                session.run()
            if session.lost is not None:
                raise ConnectionLost(f"the line to {self.spec!r} was lost during the terminal session: {session.lost}")
            self._repl.enter()
            found: list[bytes] = []
            self._repl.exec(b"print('__belay_r' in globals())", timeout=self.timeout, on_stdout=found.append)
            if b"True" not in b"".join(found):
                self._deferred.clear()
                self._replay()

    def reconnect(self, attempts: Optional[int] = None) -> None:
        """Open the line again (restarting an emulated or ``exec:`` board) and replay recorded code.

        Parameters
        ----------
        attempts
            Tries, one second apart; default the device's ``attempts`` (at least 1).
        """
        with self._lock:
            self._reconnect(attempts)

    def _reconnect(self, attempts: Optional[int] = None) -> None:
        last: Optional[BaseException] = None
        self._reconnecting = True
        tries = max(1, self.attempts if attempts is None else attempts)
        try:
            for attempt in range(tries):
                if attempt:
                    time.sleep(1.0)
                self._transport.close()
                try:
                    self._transport.open()
                    self._repl = RawRepl(self._transport, pacing=self._pacing)
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
            atexit.unregister(self._at_exit)
            try:
                # The teardown executer's functions in definition order (replaceable in its
                # ``_belay_executers``, as in the original), then any a plugin added.
                defined = self._executers["teardown"].defined if "teardown" in self._executers else []
                for teardown in [*defined, *self._teardowns]:
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


_DEVICE_CLASS.append(Device)


_VIEWS = ("dict_keys", "dict_values", "dict_items")
_HELPER_LOST = re.compile(
    r"Traceback \(most recent call last\):\n  File \"<stdin>\", line 1, in <module>\n"
    r"NameError: name '__belay_(?:r|f|gn|g|o|x|n|m)' is(?:n't| not) defined\s*$"
)
"""The error of a call whose first name is one of Belay's helpers, when the board has lost them."""
_CONSTANTS = {"None": None, "True": True, "False": False}


class UnparsableResultWarning(UserWarning):
    """A call returned `UNPARSABLE_RESULT`: the board's value has no plain host equivalent."""


def _unparsable(what: str) -> Any:
    """`UNPARSABLE_RESULT`, as the original returns, with a warning that says what to do instead."""
    warnings.warn(
        UnparsableResultWarning(
            f"the board returned {what}: the call gives UNPARSABLE_RESULT. Ask for a proxy "
            "(device.proxy(...), proxy=True, @device.task(proxy=True)) or pass trusted=True"
        ),
        stacklevel=5,
    )
    return UNPARSABLE_RESULT


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
        return os.fspath(value)  # type: ignore[return-value]
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


__all__ = ["DEFAULT_TIMEOUT", "Device", "DeviceMeta", "Implementation"]
