"""The original belay's result sentinels: classes that stand for "no value", never instantiated."""

from __future__ import annotations

from typing import NoReturn


class SentinelMeta(type):
    """Metaclass of the sentinels: ``repr`` is ``<NAME>`` and they are false."""

    def __repr__(cls) -> str:
        return f"<{cls.__name__}>"

    def __bool__(cls) -> bool:
        return False


class Sentinel(metaclass=SentinelMeta):
    """Base of the sentinels; subclass it, do not instantiate it."""

    def __new__(cls) -> NoReturn:
        raise ValueError(f"{cls.__name__} is a sentinel: use the class itself, do not instantiate it")


class NO_RESULT(Sentinel):
    """No result: what a statement gives where a value is looked for."""


class UNPARSABLE_RESULT(Sentinel):
    """The board's value could not be turned into a host value (its repr is not a Python literal).

    A call returns it when ``trusted=False`` and the value is neither a plain value nor a proxy; ask
    for a proxy (``proxy=True``) or pass ``trusted=True`` to get something usable.
    """


__all__ = ["NO_RESULT", "UNPARSABLE_RESULT", "Sentinel", "SentinelMeta"]
