"""What firmware runs on a board: `Implementation`, learned at connect."""

from __future__ import annotations

from typing import Any, Optional, Union

from attrs import define, field

from belay_core.errors import ProtocolError

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
        """Build from the tuple ``__belay_i()`` returns on the board.

        Raises
        ------
        ProtocolError
            When the board's answer is not such a tuple (a broken or hostile firmware).
        """
        try:
            return cls._from_board(info)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise ProtocolError(
                f"the board described its firmware as {str(info)[:200]}, which is not what MicroPython "
                f"answers ({type(exc).__name__}: {exc})"
            ) from None

    @classmethod
    def _from_board(cls, info: tuple[Any, ...]) -> Implementation:
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


__all__ = ["ARCHITECTURES", "Implementation"]
