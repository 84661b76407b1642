"""Executers: the decorators ``@device.setup``, ``@device.task``, ``@device.thread``, ``@device.teardown``.

Each is a plugin kind (`belay_core.records.ExecuterRecord`); core registers these four. A third-party
executer subclasses `Executer` and implements `Executer.register`.
"""

from __future__ import annotations

import ast
import functools
import inspect
import itertools
import textwrap
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar, Union

from attrs import define, field

from belay_core.errors import (
    BelayError,
    DefinitionError,
    DeviceError,
    FeatureUnavailableError,
    SpecialFunctionNameError,
    raised_on_the_board,
)
from belay_core.tracebacks import SourceOrigin

if TYPE_CHECKING:
    from belay_core.device_api import DeviceApi

F = TypeVar("F", bound=Callable[..., Any])


@define(frozen=True)
class FunctionSource:
    """A host function's source, as it is sent to the board.

    Parameters
    ----------
    name
        The function's name.
    code
        The ``def`` without decorators (or only the body, for setups), dedented.
    origin
        Where ``code``'s first line is on the host.
    parameters
        The function's signature.
    is_generator
        Whether it is a generator function.
    """

    name: str
    code: str
    origin: SourceOrigin
    parameters: inspect.Signature
    is_generator: bool


def function_source(f: Callable[..., Any], *, body: bool = False) -> FunctionSource:
    """Read the source of ``f`` for the board.

    Parameters
    ----------
    f
        A plain function defined in a file.
    body
        Only the body (for setups and teardowns, which run in the board's global scope).

    Raises
    ------
    BelayError
        When the source cannot be read (functions typed at an interactive prompt, lambdas, builtins).
    """
    f = inspect.unwrap(f)
    try:
        lines, first = inspect.getsourcelines(f)
        file = inspect.getsourcefile(f) or inspect.getfile(f)
    except (OSError, TypeError) as exc:
        name = getattr(f, "__name__", f)
        where = getattr(getattr(f, "__code__", None), "co_filename", "")
        if where == "<stdin>":
            raise DefinitionError(
                f"cannot read the source of {name!r}: it was typed at the Python prompt, which keeps no source "
                "(Python 3.13's new prompt does). Define it in a file, in IPython or Jupyter, or run the code "
                "as a string with device(...)"
            ) from None
        if where == "<string>":
            raise DefinitionError(
                f"cannot read the source of {name!r}: it was made by exec() or compile() of a string, which keeps "
                "no source; put the code in a file, or register it in linecache under the name given to compile()"
            ) from None
        raise BelayError(f"cannot read the source of {name!r}: {exc}") from None
    first = max(first, 1)
    source = textwrap.dedent("".join(lines))
    try:
        node = ast.parse(source).body[0]
    except (SyntaxError, IndexError) as exc:
        raise BelayError(f"cannot parse the source of {f.__name__!r}: {exc}") from None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        raise BelayError(f"{f.__name__!r} is not a plain function (lambdas cannot be sent to the board)")
    source_lines = source.splitlines(keepends=True)
    if body:
        start = node.body[0]
        if start.lineno == node.lineno:  # def f(): return 1
            text = source_lines[start.lineno - 1][start.col_offset :] + "".join(source_lines[start.lineno :])
        else:
            text = textwrap.dedent("".join(source_lines[start.lineno - 1 :]))
        line = first + start.lineno - 1
    else:
        text = "".join(source_lines[node.lineno - 1 :])
        line = first + node.lineno - 1
    return FunctionSource(
        name=f.__name__,
        code=text,
        origin=SourceOrigin(file, line),
        parameters=inspect.signature(f),
        is_generator=inspect.isgeneratorfunction(f),
    )


def board_source(value: Any) -> str:
    """Python source that recreates ``value`` on the board: its ``repr``, or a proxy's reference.

    Proxies (objects with ``__belay_ref__``) pass by reference, also inside lists, tuples and dicts.
    """
    ref = getattr(type(value), "__belay_ref__", None)
    if ref is not None:
        return str(ref(value))
    if isinstance(value, list):
        return "[" + ",".join(board_source(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + "".join(board_source(v) + "," for v in value) + ")"
    if isinstance(value, dict):
        return "{" + ",".join(f"{board_source(k)}:{board_source(v)}" for k, v in value.items()) + "}"
    return repr(value)


def call_source(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """``name(arg, ..., key=value, ...)`` as board source."""
    parts = [board_source(a) for a in args] + [f"{k}={board_source(v)}" for k, v in kwargs.items()]
    return f"{name}({','.join(parts)})"


def _reserved(name: str) -> bool:
    """Names Belay keeps for itself: ``__*__``, ``_belay*``, ``__belay*``."""
    return name.startswith(("_belay", "__belay")) or (name.startswith("__") and name.endswith("__"))


class Executer:
    """Base class of executers: the decorators ``@device.<name>``.

    A subclass implements `register`, which sends what it needs to the board and returns the host
    callable that replaces the decorated function. Both decorator forms work: ``@device.task`` and
    ``@device.task(minify=False)``. Registered functions are reachable as ``device.<executer>.<name>``.

    Parameters
    ----------
    device
        The device it serves.
    name
        The name it is registered under.
    """

    def __init__(self, device: DeviceApi, name: str) -> None:
        self.device = device
        self.name = name
        self.functions: dict[str, Callable[..., Any]] = {}
        self.defined: list[Callable[..., Any]] = []

    def __call__(self, f: Optional[F] = None, /, **options: Any) -> Union[F, Callable[[F], F]]:
        if f is None:
            return functools.partial(self.__call__, **options)  # type: ignore[return-value]
        name = getattr(f, "__name__", "")
        if options.get("register", True) and _reserved(name):
            raise SpecialFunctionNameError(f"cannot register a function named {name!r}: the name is reserved")
        host = self.register(f, **options)
        if options.get("register", True):
            self.functions[name] = host
        self.defined.append(host)
        return host

    @property
    def _belay_executers(self) -> list[Callable[..., Any]]:
        """The original belay's name of `defined`: every host callable this executer made, in order."""
        return self.defined

    def register(self, f: Callable[..., Any], **options: Any) -> Callable[..., Any]:
        """Send ``f`` to the board as this executer needs; return the host callable.

        Parameters
        ----------
        f
            The decorated host function.
        **options
            The decorator's keyword arguments.
        """
        raise NotImplementedError

    def __getattr__(self, name: str) -> Callable[..., Any]:
        try:
            functions: dict[str, Callable[..., Any]] = self.__dict__["functions"]
            return functions[name]
        except KeyError:
            raise AttributeError(f"no {self.__dict__.get('name', 'executer')} function named {name!r}") from None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} @{self.name} of {self.device!r}: {', '.join(self.functions) or 'empty'}>"


class SetupExecuter(Executer):
    """``@device.setup``: the body runs in the board's global scope; arguments become globals."""

    def register(  # type: ignore[override]  # each kind takes its own decorator options
        self,
        f: Callable[..., Any],
        *,
        minify: Union[bool, str] = True,
        register: bool = True,
        record: bool = True,
        ignore_errors: bool = False,
        autoinit: bool = False,
    ) -> Callable[..., None]:
        """Return a host function that runs the body of ``f`` on the board.

        Parameters
        ----------
        minify
            Minify the body (``True``), not (``False``), or with the minifier of this name.
        register
            Make it reachable as ``device.setup.<name>``.
        record
            Replay it after a reconnect or soft reset.
        ignore_errors
            Swallow board exceptions.
        autoinit
            Run it once right away (with its defaults).
        """
        if inspect.isgeneratorfunction(f):
            raise DefinitionError(f"@device.{self.name} does not take generators ({f.__name__!r} yields)")
        source = function_source(f, body=True)
        body = self.device.minify(source.code, minify)
        device = self.device

        @raised_on_the_board
        @functools.wraps(f)
        def run(*args: Any, **kwargs: Any) -> None:
            bound = source.parameters.bind(*args, **kwargs)
            bound.apply_defaults()
            assign = ";".join(f"{k}={board_source(v)}" for k, v in bound.arguments.items())
            code = f"{assign}\n{body}" if assign else body
            origin = SourceOrigin(source.origin.file, source.origin.line - (1 if assign else 0), source.name)
            try:
                device.run_statements(code, origin=origin, record=record)
            except DeviceError:
                if not ignore_errors:
                    raise

        if autoinit:
            run()
        return run


class TeardownExecuter(SetupExecuter):
    """``@device.teardown``: like a setup, run when the device closes, in definition order.

    `Device.close` runs the functions in ``defined`` (also ``_belay_executers``, the original's name).
    """

    def register(  # type: ignore[override]  # each kind takes its own decorator options
        self,
        f: Callable[..., Any],
        *,
        minify: Union[bool, str] = True,
        register: bool = True,
        record: bool = True,
        ignore_errors: bool = False,
    ) -> Callable[..., None]:
        """Return a host function that runs the body of ``f``; it also runs at `Device.close`.

        The options are a setup's; ``record`` defaults to ``True``, as in the original belay.
        """
        if inspect.signature(f).parameters:
            raise DefinitionError(f"@device.teardown functions take no arguments ({f.__name__!r} does)")
        return super().register(f, minify=minify, register=register, record=record, ignore_errors=ignore_errors)


class TaskExecuter(Executer):
    """``@device.task``: the function is defined on the board; calling it runs it there."""

    def register(  # type: ignore[override]  # each kind takes its own decorator options
        self,
        f: Callable[..., Any],
        *,
        minify: Union[bool, str] = True,
        register: bool = True,
        record: bool = False,
        trusted: bool = False,
        return_time: bool = False,
        proxy: bool = False,
    ) -> Callable[..., Any]:
        """Define ``f`` on the board; return a host function that calls it there.

        Parameters
        ----------
        minify
            Minify the definition (``True``), not (``False``), or with the minifier of this name.
        register
            Make it reachable as ``device.task.<name>``.
        record
            Replay calls after a reconnect or soft reset.
        trusted
            Parse results with `eval` instead of `ast.literal_eval`.
        return_time
            Return ``(result, datetime)``: when the call finished on the board, in host time.
        proxy
            Return a proxy for results that are not plain values.
        """
        source = function_source(f)
        device = self.device
        device.define(source, minify)

        if source.is_generator:

            @functools.wraps(f)
            def start(*args: Any, **kwargs: Any) -> DeviceGenerator:
                return DeviceGenerator(device, call_source(source.name, args, kwargs), trusted, return_time, proxy)

            return start

        @raised_on_the_board
        @functools.wraps(f)
        def call(*args: Any, **kwargs: Any) -> Any:
            return device.evaluate(
                call_source(source.name, args, kwargs),
                trusted=trusted,
                record=record,
                return_time=return_time,
                proxy=proxy,
            )

        return call


class ThreadExecuter(Executer):
    """``@device.thread``: the function is defined on the board; calling it starts a board thread."""

    def register(  # type: ignore[override]  # each kind takes its own decorator options
        self,
        f: Callable[..., Any],
        *,
        minify: Union[bool, str] = True,
        register: bool = True,
        record: bool = True,
    ) -> Callable[..., None]:
        """Define ``f`` on the board; return a host function that starts it in a board thread.

        Raises (at call time) `FeatureUnavailableError` on firmware without ``_thread``.
        """
        source = function_source(f)
        device = self.device
        device.define(source, minify)

        @raised_on_the_board
        @functools.wraps(f)
        def start(*args: Any, **kwargs: Any) -> None:
            impl = device.implementation
            if "thread" not in impl.features:
                version = ".".join(map(str, impl.version))
                raise FeatureUnavailableError(
                    f"@device.thread needs _thread, which {impl.name} {version} on {impl.platform!r} does not have"
                )
            device.run_statements(
                f"import _thread\n_thread.start_new_thread({source.name},{board_source(args)},{board_source(kwargs)})",
                record=record,
            )

        return start


class DeviceGenerator(Iterator[Any]):
    """A generator running on the board, driven from the host: ``next()``, ``send()``, ``close()``.

    The board's generator is freed when it is exhausted, closed, or this object is garbage-collected.
    """

    _keys = itertools.count()

    def __init__(self, device: DeviceApi, call: str, trusted: bool, return_time: bool, proxy: bool) -> None:
        self._device = device
        self._call = call
        self._key = next(self._keys)
        self._options = {"trusted": trusted, "return_time": return_time, "proxy": proxy}
        self._started = False
        self._finished = False

    def __iter__(self) -> DeviceGenerator:
        return self

    @raised_on_the_board
    def __next__(self) -> Any:
        return self.send(None)

    @raised_on_the_board
    def send(self, value: Any) -> Any:
        """Resume the board's generator with ``value``; return what it yields next."""
        if self._finished:
            raise StopIteration
        timed = self._device.wants_time(return_time=self._options["return_time"])
        flags = f"{int(self._options['proxy'])},1" if timed else f"{int(self._options['proxy'])}"
        step = f"__belay_gn({self._key},{board_source(value)},{flags})"
        if not self._started:
            if value is not None:
                raise TypeError("can't send non-None value to a just-started generator")
            step = f"__belay_g[{self._key}]={self._call}\n{step}"
            self._started = True
        try:
            result = self._device.step_generator(
                step, trusted=self._options["trusted"], return_time=self._options["return_time"], timed=timed
            )
        except BaseException:
            self._finished = True
            raise
        if result is StopIteration:
            self._finished = True
            raise StopIteration
        return result

    def close(self) -> None:
        """Close the board's generator (running its ``finally`` blocks) and free it."""
        if self._started and not self._finished:
            self._finished = True
            self._device.run_statements(f"__belay_g.pop({self._key}).close()")
        self._finished = True

    def __del__(self) -> None:
        if getattr(self, "_started", False) and not self._finished:
            self._device.defer(f"__belay_g.pop({self._key},None)")


class ExecuterMarker:
    """What ``Device.<executer>`` is at class level: marks methods of `Device` subclasses.

    ``@Device.task`` or ``@Device.task(implementation="circuitpython", ...)`` in a class body; the
    methods are registered with the connected device's executer when an instance connects.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, f: Optional[F] = None, /, **options: Any) -> Any:
        if f is None:
            return functools.partial(self.__call__, **options)
        implementation = options.pop("implementation", None) or None
        name = getattr(f, "__name__", repr(f))
        if self.name in ("setup", "teardown") and inspect.isgeneratorfunction(f):
            raise DefinitionError(f"@Device.{self.name} does not take generators ({name!r} yields)")
        has_parameters = bool(inspect.signature(f).parameters)
        if self.name == "setup" and options.get("autoinit") and has_parameters:
            raise DefinitionError(f"{name!r}: a @Device.setup(autoinit=True) method takes no arguments")
        if self.name == "teardown" and has_parameters:
            raise DefinitionError(f"{name!r}: a @Device.teardown method takes no arguments")
        return MarkedFunction(f, self.name, implementation, options)

    def __repr__(self) -> str:
        return f"<Device.{self.name} decorator>"


_marks = itertools.count()


@define
class MarkedFunction:
    """A `Device` subclass method marked with ``@Device.<executer>``; ``order`` counts definitions."""

    function: Callable[..., Any]
    executer: str
    implementation: Optional[str]
    options: dict[str, Any]
    order: int = field(factory=lambda: next(_marks))

    @property
    def __name__(self) -> str:
        return self.function.__name__
