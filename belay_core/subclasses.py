"""`DeviceMeta`: executer methods in `Device` subclasses, their overloads, and the registry of subclasses.

In a class body, ``@Device.task`` (and the other executers) marks a method; several marked methods of
one name are overloads chosen by the connected firmware's ``implementation`` name. Every subclass
registers itself by name in each `Device` class above it, as the original belay's ``autoregistry``
metaclass did.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Optional, Union

from attrs import define, field

from belay_core.errors import DefinitionError, NoMatchingExecuterError
from belay_core.executers import ExecuterMarker, MarkedFunction


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


class ExecuterMethod:
    """Class attribute holding the overloads of one executer method; resolved per connected device."""

    def __init__(self, overloads: _OverloadList) -> None:
        self.overloads: list[MarkedFunction] = list(overloads)

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
        converted = {k: ExecuterMethod(v) if isinstance(v, _OverloadList) else v for k, v in namespace.items()}
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


def _registering_ancestors(cls: type, config: dict[str, Any]) -> list[DeviceMeta]:
    """The `Device` classes ``cls`` registers in: its direct bases, and further up while ``recursive``."""
    found: list[DeviceMeta] = []
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
"""`Device` once defined (its metaclass reorders the MRO of subclasses around it): `set_base` fills it."""


def set_base(cls: type) -> None:
    """Name the class whose subclasses have it (and its own bases) last in their MRO: `belay_core.Device`."""
    _DEVICE_CLASS[:] = [cls]


def bindings(cls: type, implementation: str) -> list[tuple[str, MarkedFunction]]:
    """The executer methods of ``cls`` to bind for firmware ``implementation``, in definition order.

    The methods of a class win over its bases'; a class without an overload that fits leaves the
    name to its bases (as the original belay did); a plain attribute hides what a base defines.
    Plain mixin classes (no metaclass) count too.
    """
    seen: set[str] = set()
    chosen: list[tuple[str, MarkedFunction]] = []
    for klass in cls.__mro__:
        for name, value in vars(klass).items():
            if name in seen:
                continue
            marked: Optional[MarkedFunction]
            if isinstance(value, ExecuterMethod):
                marked = value.choose(implementation)
            elif isinstance(value, MarkedFunction):  # in a plain mixin class
                marked = value if value.implementation in (None, implementation) else None
            else:
                if not name.startswith("__"):
                    seen.add(name)
                continue
            if marked is not None:
                seen.add(name)
                chosen.append((name, marked))
    chosen.sort(key=lambda item: item[1].order)  # definition order: base classes first, then top to bottom
    return chosen


__all__ = ["DeviceMeta", "ExecuterMethod", "bindings", "set_base"]
