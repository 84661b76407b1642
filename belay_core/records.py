"""What plugins register: small records, so nothing heavy is imported until it is used.

Every ``belay_register_<kind>()`` hook returns a list of these records. A record names the object
it stands for by an import target (``"package.module:attribute"``) or carries the object itself, and
`Record.load` imports it only when Belay needs it.
"""

from __future__ import annotations

import importlib
import re
from typing import Any, ClassVar, Protocol, Union

from attrs import define, field

_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _check_name(instance: Record, attribute: Any, value: str) -> None:
    rule = type(instance).name_rule
    if not isinstance(value, str) or not rule.match(value):
        what = "a public Python name" if rule is _IDENTIFIER else "lower-case letters, digits, '-' and '_'"
        raise ValueError(f"{type(instance).__name__} name {value!r} is invalid: use {what}")


def _check_target(instance: Record, attribute: Any, value: Any) -> None:
    if isinstance(value, str) and not _TARGET.match(value):
        raise ValueError(f"{type(instance).__name__} target {value!r} is not of the form 'package.module:attribute'")


@define(frozen=True)
class Record:
    """Base of every registration record.

    Parameters
    ----------
    name
        The name users select it by (``"exec"``, ``"fnv1a32"``, ``"sync"``).
    target
        ``"package.module:attribute"`` to import on first use, or the object itself.
    summary
        One line shown in listings and ``--help``.
    """

    kind: ClassVar[str] = "record"
    name_rule: ClassVar[re.Pattern[str]] = _NAME

    name: str = field(validator=_check_name)
    target: Union[str, Any] = field(validator=_check_target)
    summary: str = ""

    def load(self) -> Any:
        """Import and return the object this record stands for.

        Raises
        ------
        PluginError
            When the target cannot be imported.
        """
        if not isinstance(self.target, str):
            return self.target
        module_name, _, attr = self.target.partition(":")
        from belay_core.errors import PluginError

        try:
            obj: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as exc:
            raise PluginError(f"cannot load {self.kind} {self.name!r} from {self.target!r}: {exc}") from exc
        return obj


@define(frozen=True)
class TransportRecord(Record):
    """A transport: how bytes reach a board.

    Parameters
    ----------
    prefixes
        Device-spec prefixes it handles (``("exec:",)``, ``("ws://", "wss://")``).
    example
        An example spec shown in error messages and ``belay plugins``.
    discovers
        Whether its class implements `belay_core.transport.Transport.discover`, so ``Device()`` with no
        spec can find an attached board.
    pattern
        A regular expression for specs no prefix names (``r"^\\d{1,3}(\\.\\d{1,3}){3}(:\\d+)?$"`` for a
        bare IPv4 address): tried, in registration order, when no transport's prefix matches.
    """

    kind: ClassVar[str] = "transport"

    prefixes: tuple[str, ...] = field(default=(), converter=tuple)
    example: str = ""
    discovers: bool = False
    pattern: str = ""

    def handles(self, spec: str) -> bool:
        """Whether ``spec`` starts with one of this transport's prefixes, or matches its pattern."""
        return any(spec.startswith(prefix) for prefix in self.prefixes) or bool(
            self.pattern and re.search(self.pattern, spec)
        )


@define(frozen=True)
class CommandRecord(Record):
    """A ``belay`` sub-command; ``target`` is a `click.Command`."""

    kind: ClassVar[str] = "command"


@define(frozen=True)
class ExecuterRecord(Record):
    """A decorator ``@device.<name>``; ``target`` is the executer class."""

    kind: ClassVar[str] = "executer"


@define(frozen=True)
class HasherRecord(Record):
    """A file hasher with host and device sides, used by sync; ``target`` is the hasher class."""

    kind: ClassVar[str] = "hasher"


@define(frozen=True)
class MinifierRecord(Record):
    """A source minifier; ``target`` is a callable ``(source: str) -> str``."""

    kind: ClassVar[str] = "minifier"


@define(frozen=True)
class DownloaderRecord(Record):
    """A dependency downloader, for the package manager (belay-packages).

    ``target`` is a ``belay_packages.downloaders.Downloader`` subclass.

    Parameters
    ----------
    schemes
        Source prefixes it handles (``("github:", "https://github.com/")``).
    """

    kind: ClassVar[str] = "downloader"

    schemes: tuple[str, ...] = field(default=(), converter=tuple)


class Compiler(Protocol):
    """What a compiler plugin's ``find`` returns: the ``mpy-cross`` it found, by its version."""

    version: str

    def compile(self, source: bytes, *, filename: str) -> bytes:
        """Compile the source of ``filename`` to ``.mpy`` bytes."""
        ...


@define(frozen=True)
class CompilerRecord(Record):
    """A compiler of ``.py`` files to ``.mpy``, used by sync's ``mpy_cross=``.

    ``target`` is a callable ``find(mpy_version, mpy_sub_version, *, binary=None)`` returning an
    object with ``version`` and ``compile(source: bytes, *, filename: str) -> bytes``, or raising
    `belay_core.errors.BelayError` when no compiler fits.
    """

    kind: ClassVar[str] = "compiler"


@define(frozen=True)
class ExportRecord(Record):
    """A name a plugin adds to ``belay_core``'s namespace: ``belay_core.UsbSpecifier`` from belay-serial.

    ``name`` is the attribute's name as users write it (any public identifier); ``target`` the
    object, imported on first use of the attribute.
    """

    kind: ClassVar[str] = "export"
    name_rule: ClassVar[re.Pattern[str]] = _IDENTIFIER


RECORD_TYPES: dict[str, type[Record]] = {
    "transports": TransportRecord,
    "executers": ExecuterRecord,
    "hashers": HasherRecord,
    "minifiers": MinifierRecord,
    "downloaders": DownloaderRecord,
    "compilers": CompilerRecord,
    "exports": ExportRecord,
    "commands": CommandRecord,
}
"""Record type of each kind, keyed by the kind's plural (the hook is ``belay_register_<kind>``): the one
list of plugin kinds, in the order listings show them."""
