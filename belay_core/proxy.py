"""`ProxyObject`: a host stand-in for an object that lives on the board.

Every operation on a proxy is one round trip: the host builds a board expression around the proxy's
reference (``led.value(1)``, ``__belay_o[1234][0:2]``) and evaluates it with ``proxy=True``, so a result
that is a plain value comes back as a value and any other result comes back as a new proxy.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Callable, Optional

from belay_core.errors import BelayError, raised_on_the_board
from belay_core.executers import DeviceGenerator, board_source, call_source

if TYPE_CHECKING:
    from belay_core.device_api import DeviceApi

_PLAIN = (int, float, str, bytes, bytearray, bool, type(None))
_CONTAINERS = (list, tuple, set)

_live: weakref.WeakKeyDictionary[Any, dict[str, int]] = weakref.WeakKeyDictionary()
"""Per device, how many live owned proxies share each board reference (several proxies can name the same
``__belay_o`` entry: the board keys kept objects by ``id``)."""


def _retain(device: DeviceApi, ref: str) -> None:
    counts = _live.setdefault(device, {})
    counts[ref] = counts.get(ref, 0) + 1


def _release(device: DeviceApi, ref: str) -> None:
    counts = _live.get(device)
    if counts is None or ref not in counts:
        return
    counts[ref] -= 1
    if counts[ref] > 0:
        return
    del counts[ref]
    if ref.startswith("__belay_o[") and ref.endswith("]"):
        device.defer(f"__belay_o.pop({ref[10:-1]},None)")
    else:
        device.defer(f"try:\n del {ref}\nexcept Exception:pass")


def _sendable(value: Any) -> bool:
    """Whether ``value`` can be written as board source (a plain value, a proxy, or containers of those)."""
    if getattr(type(value), "__belay_ref__", None) is not None or isinstance(value, _PLAIN):
        return True
    if isinstance(value, _CONTAINERS):
        return all(_sendable(v) for v in value)
    if isinstance(value, dict):
        return all(_sendable(k) and _sendable(v) for k, v in value.items())
    return False


def _source(value: Any) -> str:
    """Board source for ``value``; `TypeError` for host objects that cannot go to the board."""
    if not _sendable(value):
        raise TypeError(f"cannot send a {type(value).__name__!r} to the board: pass plain values or proxies")
    return board_source(value)


def _host_side(name: str) -> bool:
    """Names that never go to the board: Belay's own, and Python's and IPython's protocol probes."""
    return (
        name.startswith(("_belay", "_ipython", "_repr_"))
        or (name.startswith("__") and name.endswith("__"))
        or not name.isidentifier()
    )


def _binary(symbol: str, name: str) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """The forward, reflected and in-place methods of a binary operator."""

    def forward(self: ProxyObject, other: Any) -> Any:
        if not _sendable(other):
            return NotImplemented
        return self._belay_eval(f"({self._belay_ref}){symbol}({board_source(other)})")

    def reflected(self: ProxyObject, other: Any) -> Any:
        if not _sendable(other):
            return NotImplemented
        return self._belay_eval(f"({board_source(other)}){symbol}({self._belay_ref})")

    def inplace(self: ProxyObject, other: Any) -> Any:
        if not _sendable(other):
            return NotImplemented
        return self._belay_inplace(symbol, board_source(other))

    forward.__name__ = f"__{name}__"
    reflected.__name__ = f"__r{name}__"
    inplace.__name__ = f"__i{name}__"
    forward.__doc__ = f"``proxy {symbol} other`` on the board."
    reflected.__doc__ = f"``other {symbol} proxy`` on the board."
    inplace.__doc__ = f"``proxy {symbol}= other`` on the board (rebinds the board name where the reference is one)."
    return forward, reflected, inplace


def _compare(symbol: str, name: str) -> Callable[..., Any]:
    def compare(self: ProxyObject, other: Any) -> Any:
        if not _sendable(other):
            return NotImplemented
        return self._belay_eval(f"({self._belay_ref}){symbol}({board_source(other)})")

    compare.__name__ = f"__{name}__"
    compare.__doc__ = f"``proxy {symbol} other`` on the board."
    return compare


def _unary(template: str, name: str) -> Callable[..., Any]:
    def unary(self: ProxyObject) -> Any:
        return self._belay_eval(template.format(self._belay_ref))

    unary.__name__ = f"__{name}__"
    unary.__doc__ = f"``{template.format('proxy')}`` on the board."
    return unary


class ProxyObject:
    """A host stand-in for a board object: operations on it run on the board, one round trip each.

    Usually made by `Device.proxy` or returned by a call with ``proxy=True``; it may also be built
    directly, as in the original belay: ``ProxyObject(device, "led")``.

    Parameters
    ----------
    device
        The device the object lives on.
    name
        Board source that names the object: a global (``"led"``) or an entry Belay keeps
        (``"__belay_o[1234]"``).
    delete
        Free the board object when the last proxy of it that has ``delete=True`` is garbage-collected:
        ``del name`` on the board (for a kept entry, the entry goes), before the device's next call.
    type_name
        The board object's type name, if known (shown by ``repr``; asked of the board otherwise).

    Notes
    -----
    Attributes a subclass defines on its class (methods, properties, class attributes), and any the
    instance already holds on the host, are the host's: getting and setting them never reaches the
    board. Every other attribute is the board object's.

    Examples
    --------
    >>> device("class Thing:\\n def __init__(self): self.x = 1")  # doctest: +SKIP
    >>> thing = device.proxy("Thing()")  # doctest: +SKIP
    >>> thing.x + 1  # doctest: +SKIP
    2
    """

    __slots__ = ("__weakref__", "_belay_device", "_belay_owned", "_belay_ref", "_belay_type")

    _belay_device: DeviceApi
    _belay_ref: str
    _belay_type: Optional[str]
    _belay_owned: bool

    def __init__(self, device: DeviceApi, name: str, delete: bool = True, *, type_name: Optional[str] = None) -> None:
        object.__setattr__(self, "_belay_device", device)
        object.__setattr__(self, "_belay_ref", name)
        object.__setattr__(self, "_belay_type", type_name)
        object.__setattr__(self, "_belay_owned", False)
        if delete:
            _retain(device, name)
            object.__setattr__(self, "_belay_owned", True)

    def __belay_ref__(self) -> str:
        """Board source naming the object: how proxies pass by reference to tasks and calls."""
        return self._belay_ref

    @property
    def _belay_delete(self) -> bool:
        """The original belay's name of ``_belay_owned``: whether the board object is freed with the proxy."""
        return self._belay_owned

    @property
    def _belay_target_name(self) -> str:
        """The original belay's name of the board source naming the object."""
        return self._belay_ref

    def __del__(self) -> None:
        try:
            owned, device, ref = self._belay_owned, self._belay_device, self._belay_ref
        except AttributeError:  # __init__ did not finish
            return
        if owned:
            object.__setattr__(self, "_belay_owned", False)
            _release(device, ref)

    # ------------------------------------------------------------------------------------------------
    # Board calls
    # ------------------------------------------------------------------------------------------------

    def _belay_eval(self, expression: str) -> Any:
        """Evaluate ``expression``: plain results as values, others as new proxies."""
        return self._belay_device.evaluate(expression, proxy=True)

    def _belay_value(self, expression: str, kind: type, what: str) -> Any:
        """Evaluate ``expression``, which must give a value of type ``kind``, as the protocol ``what`` needs."""
        result = self._belay_device.evaluate(expression)
        if not isinstance(result, kind):
            described = self._belay_type or self._belay_ref
            raise TypeError(f"{what} of the board's {described!r} gave a {type(result).__name__!r}")
        return result

    def _belay_run(self, statement: str) -> None:
        self._belay_device.run_statements(statement)

    def _belay_inplace(self, symbol: str, other: str) -> Any:
        ref = self._belay_ref
        if not self._belay_owned:
            # A board name (or attribute, or item): rebind it there, the proxy keeps naming it.
            self._belay_run(f"{ref}{symbol}={other}")
            return self
        # A kept entry: the host variable rebinds to the result, a proxy again when the object was changed in
        # place (a list += stays a proxy of that list), else whatever the result is.
        source = (
            f"__belay_v={ref}\n__belay_v{symbol}={other}\nif __belay_v is {ref}:"
            "__belay_f('P','%d:%s'%(id(__belay_v),__belay_n(type(__belay_v))))\n"
            "else:__belay_r(__belay_v,1)\ndel __belay_v"
        )
        return self._belay_device.proxy_call(source)

    # ------------------------------------------------------------------------------------------------
    # Attributes
    # ------------------------------------------------------------------------------------------------

    @raised_on_the_board
    def __getattr__(self, name: str) -> Any:
        if _host_side(name):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self._belay_eval(f"{self._belay_ref}.{name}")

    def _belay_host_attribute(self, name: str) -> bool:
        """Whether ``name`` belongs to the host object: defined by a subclass, or held by the instance."""
        cls = type(self)
        if cls is not ProxyObject and any(name in vars(k) for k in cls.__mro__ if k not in (ProxyObject, object)):
            return True
        return name in getattr(self, "__dict__", ())

    @raised_on_the_board
    def __setattr__(self, name: str, value: Any) -> None:
        if self._belay_host_attribute(name):
            object.__setattr__(self, name, value)
            return
        if _host_side(name):
            raise AttributeError(f"cannot set {name!r} on a proxy: the name is kept on the host")
        self._belay_run(f"{self._belay_ref}.{name}={_source(value)}")

    def __delattr__(self, name: str) -> None:
        if self._belay_host_attribute(name):
            object.__delattr__(self, name)
            return
        if _host_side(name):
            raise AttributeError(f"cannot delete {name!r} from a proxy: the name is kept on the host")
        self._belay_run(f"del {self._belay_ref}.{name}")

    def __dir__(self) -> list[str]:
        result: list[str] = self._belay_value(f"dir({self._belay_ref})", list, "dir()")
        return result

    # ------------------------------------------------------------------------------------------------
    # Items, containers, iteration
    # ------------------------------------------------------------------------------------------------

    @staticmethod
    def _belay_key(key: Any) -> str:
        if isinstance(key, slice):
            parts = ["" if p is None else _source(p) for p in (key.start, key.stop, key.step)]
            return ":".join(parts) if parts[2] else ":".join(parts[:2])
        return _source(key)

    @raised_on_the_board
    def __getitem__(self, key: Any) -> Any:
        return self._belay_eval(f"{self._belay_ref}[{self._belay_key(key)}]")

    @raised_on_the_board
    def __setitem__(self, key: Any, value: Any) -> None:
        self._belay_run(f"{self._belay_ref}[{self._belay_key(key)}]={_source(value)}")

    def __delitem__(self, key: Any) -> None:
        self._belay_run(f"del {self._belay_ref}[{self._belay_key(key)}]")

    def __len__(self) -> int:
        result: int = self._belay_value(f"len({self._belay_ref})", int, "len()")
        return result

    def __contains__(self, item: Any) -> bool:
        return bool(self._belay_eval(f"({_source(item)})in({self._belay_ref})"))

    def __iter__(self) -> Iterator[Any]:
        """Iterate lazily: the board keeps an iterator and each item is one round trip."""
        return self._belay_iterate(
            DeviceGenerator(self._belay_device, f"(x for x in {self._belay_ref})", False, False, True)
        )

    def _belay_iterate(self, steps: DeviceGenerator) -> Iterator[Any]:
        yield from steps  # a host generator, so the proxy stays alive while its items are read

    @raised_on_the_board
    def __next__(self) -> Any:
        """``next()`` of a board iterator or generator; its end raises `StopIteration` on the host."""
        try:
            return self._belay_eval(f"next({self._belay_ref})")
        except StopIteration:  # the board's StopIteration comes back as a DeviceError that is one
            raise StopIteration from None

    # ------------------------------------------------------------------------------------------------
    # Calls, text, hashing, conversions
    # ------------------------------------------------------------------------------------------------

    @raised_on_the_board
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for value in (*args, *kwargs.values()):
            _source(value)
        return self._belay_eval(call_source(self._belay_ref, args, kwargs))

    def __str__(self) -> str:
        result: str = self._belay_value(f"str({self._belay_ref})", str, "str()")
        return result

    def __repr__(self) -> str:
        """``<ProxyObject REPR>``, with the board object's repr, as the original belay shows it."""
        try:
            board = self._belay_device.evaluate(f"repr({self._belay_ref})")
        except BelayError as exc:
            first = str(exc).strip().splitlines()[-1:] or [type(exc).__name__]
            return f"<{type(self).__name__} {self._belay_ref} (unavailable: {first[0]})>"
        return f"<{type(self).__name__} {board}>"

    def __format__(self, spec: str) -> str:
        if not spec:
            return str(self)
        result: str = self._belay_value(f"{'{:' + spec + '}'!r}.format({self._belay_ref})", str, "format()")
        return result

    def __hash__(self) -> int:
        result: int = self._belay_value(f"hash({self._belay_ref})", int, "hash()")
        return result

    def __bool__(self) -> bool:
        result: bool = self._belay_value(f"bool({self._belay_ref})", bool, "bool()")
        return result

    def __int__(self) -> int:
        result: int = self._belay_value(f"int({self._belay_ref})", int, "int()")
        return result

    def __float__(self) -> float:
        result: float = self._belay_value(f"float({self._belay_ref})", float, "float()")
        return result

    def __index__(self) -> int:
        """An integer for slicing and ``range``: only for board integers (``x | 0`` must give an int)."""
        result: int = self._belay_value(f"({self._belay_ref})|0", int, "index()")
        return result

    def __round__(self, ndigits: Optional[int] = None) -> Any:
        extra = "" if ndigits is None else f",{int(ndigits)}"
        return self._belay_eval(f"round({self._belay_ref}{extra})")

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("a proxy cannot be pickled or copied: the object lives on the board")

    # ------------------------------------------------------------------------------------------------
    # Operators
    # ------------------------------------------------------------------------------------------------

    __eq__ = _compare("==", "eq")
    __ne__ = _compare("!=", "ne")
    __lt__ = _compare("<", "lt")
    __le__ = _compare("<=", "le")
    __gt__ = _compare(">", "gt")
    __ge__ = _compare(">=", "ge")

    __add__, __radd__, __iadd__ = _binary("+", "add")
    __sub__, __rsub__, __isub__ = _binary("-", "sub")
    __mul__, __rmul__, __imul__ = _binary("*", "mul")
    __truediv__, __rtruediv__, __itruediv__ = _binary("/", "truediv")
    __floordiv__, __rfloordiv__, __ifloordiv__ = _binary("//", "floordiv")
    __mod__, __rmod__, __imod__ = _binary("%", "mod")
    __pow__, __rpow__, __ipow__ = _binary("**", "pow")
    __lshift__, __rlshift__, __ilshift__ = _binary("<<", "lshift")
    __rshift__, __rrshift__, __irshift__ = _binary(">>", "rshift")
    __and__, __rand__, __iand__ = _binary("&", "and")
    __or__, __ror__, __ior__ = _binary("|", "or")
    __xor__, __rxor__, __ixor__ = _binary("^", "xor")

    __neg__ = _unary("-({})", "neg")
    __pos__ = _unary("+({})", "pos")
    __invert__ = _unary("~({})", "invert")
    __abs__ = _unary("abs({})", "abs")

    def __divmod__(self, other: Any) -> Any:
        if not _sendable(other):
            return NotImplemented
        return self._belay_eval(f"divmod({self._belay_ref},{board_source(other)})")

    def __rdivmod__(self, other: Any) -> Any:
        if not _sendable(other):
            return NotImplemented
        return self._belay_eval(f"divmod({board_source(other)},{self._belay_ref})")


__all__ = ["ProxyObject"]
