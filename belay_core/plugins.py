"""Finding, loading and querying plugins.

Plugins are modules named by entry points of group ``belay``. `stevedore` finds and imports them,
`pluggy` holds them and dispatches the ``belay_register_<kind>()`` hooks. A plugin that fails to
import, or registers badly, is recorded with its error and never breaks Belay, unless
``BELAY_STRICT_PLUGINS=1`` asks for failures to raise.

Environment
-----------
``BELAY_PLUGINS``
    Comma-separated allow-list of entry-point names: only these plugins are imported.
``BELAY_DISABLE_PLUGINS``
    Comma-separated block-list: these plugins are never imported.
``BELAY_STRICT_PLUGINS``
    ``1`` to raise `belay_core.errors.PluginError` on any plugin failure (CI uses it).
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Optional, TypeVar

import pluggy
from attrs import define, field

from belay_core import hookspecs
from belay_core._version import __version__
from belay_core.errors import PluginError, TransportNotFoundError
from belay_core.records import RECORD_TYPES, Record, TransportRecord
from belay_core.transport import Transport, install_hint

if TYPE_CHECKING:
    from importlib import metadata

R = TypeVar("R", bound=Record)

GROUP = "belay"
"""Entry-point group plugins register under; the name is the distribution's without ``belay-``."""

CORE = "core"
"""Name of core's own built-in plugin."""


@define
class PluginInfo:
    """What is known about one plugin, for ``belay plugins`` and error messages.

    Parameters
    ----------
    name
        Entry-point name (``"serial"``), or ``"core"`` for the built-ins.
    module
        The module the entry point names.
    distribution, version
        The installed distribution that provides it, when known.
    status
        ``"ok"``, ``"failed"`` or ``"blocked"``.
    error
        The one-line reason, when failed or blocked.
    provides
        Names registered, per kind.
    """

    name: str
    module: str
    distribution: Optional[str] = None
    version: Optional[str] = None
    status: str = "ok"
    error: Optional[str] = None
    provides: dict[str, list[str]] = field(factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "module": self.module,
            "status": self.status,
            "error": self.error,
            "provides": {kind: list(names) for kind, names in self.provides.items() if names},
        }


def _split_env(value: Optional[str]) -> Optional[set[str]]:
    if value is None or not value.strip():
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def _entry_points() -> list[metadata.EntryPoint]:
    """All entry points of group ``belay`` (first one wins for a repeated name)."""
    from importlib import metadata  # not at import: importing belay_core stays light

    eps = metadata.entry_points()
    found: Iterable[metadata.EntryPoint] = (
        eps.select(group=GROUP) if hasattr(eps, "select") else eps.get(GROUP, ())  # Python 3.9
    )
    unique: dict[str, metadata.EntryPoint] = {}
    for ep in found:
        unique.setdefault(ep.name, ep)
    return list(unique.values())


def _distribution_of(ep: metadata.EntryPoint) -> tuple[Optional[str], Optional[str]]:
    from importlib import metadata

    dist = getattr(ep, "dist", None)
    if dist is not None:
        return dist.metadata["Name"], dist.version
    for candidate in metadata.distributions():  # Python 3.9: entry points do not know their distribution
        if any(e.group == GROUP and e.name == ep.name for e in candidate.entry_points):
            return candidate.metadata["Name"], candidate.version
    return None, None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


class Plugins:
    """The loaded plugins and every record they registered.

    Build it with `load_plugins` (or `get_plugins` for the process-wide one).
    """

    def __init__(self, *, strict: bool = False) -> None:
        self.strict = strict
        self.manager = pluggy.PluginManager(hookspecs.PROJECT)
        self.manager.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self.registry: dict[str, dict[str, Record]] = {kind: {} for kind in hookspecs.KINDS}
        self._owner: dict[tuple[str, str], str] = {}

    # ------------------------------------------------------------------------------------------------
    # Loading
    # ------------------------------------------------------------------------------------------------

    def _fail(self, info: PluginInfo, message: str) -> None:
        info.status = "failed"
        info.error = message if info.error is None else f"{info.error}; {message}"
        if self.strict:
            raise PluginError(f"plugin {info.name!r} ({info.distribution or info.module}): {message}")

    def add(self, name: str, module: object, info: Optional[PluginInfo] = None) -> PluginInfo:
        """Register a plugin module and collect its records.

        Parameters
        ----------
        name
            The plugin's name.
        module
            A module (or any object) with ``@hookimpl`` functions.
        info
            What is known of it already; made from ``module`` when omitted.

        Returns
        -------
        PluginInfo
            Its status after registration.
        """
        info = info or PluginInfo(name=name, module=getattr(module, "__name__", repr(module)))
        self.infos[name] = info
        try:
            self.manager.register(module, name=name)
            self.manager.check_pending()
        except Exception as exc:  # pluggy.PluginValidationError and anything a hook module does
            if self.manager.is_registered(module):
                self.manager.unregister(module)
            self._fail(info, _one_line(exc))
            return info
        for kind in hookspecs.KINDS:
            self._collect(info, module, kind)
        return info

    def _collect(self, info: PluginInfo, module: Any, kind: str) -> None:
        hook = getattr(self.manager.hook, f"belay_register_{kind}")
        impls = [impl for impl in hook.get_hookimpls() if impl.plugin is module]
        record_type = RECORD_TYPES[kind]
        for impl in impls:
            try:
                records = impl.function()
            except Exception as exc:
                self._fail(info, f"belay_register_{kind}() raised {_one_line(exc)}")
                continue
            if records is None:
                continue
            if not isinstance(records, (list, tuple)):
                self._fail(info, f"belay_register_{kind}() must return a list of {record_type.__name__}")
                continue
            for record in records:
                if not isinstance(record, record_type):
                    self._fail(
                        info,
                        f"belay_register_{kind}() returned {type(record).__name__}, expected {record_type.__name__}",
                    )
                    continue
                owner = self._owner.get((kind, record.name))
                if owner is not None:
                    other = self.infos[owner]
                    self._fail(
                        info,
                        f"{record.kind} {record.name!r} is registered by both "
                        f"{other.distribution or other.module} and {info.distribution or info.module}",
                    )
                    continue
                self._owner[(kind, record.name)] = info.name
                self.registry[kind][record.name] = record
                info.provides.setdefault(kind, []).append(record.name)

    def load_entry_points(self, environ: Mapping[str, str]) -> None:
        """Find plugins by entry point, apply the allow and block lists, import and register them."""
        from stevedore import NamedExtensionManager

        allow = _split_env(environ.get("BELAY_PLUGINS"))
        block = _split_env(environ.get("BELAY_DISABLE_PLUGINS")) or set()
        selected: list[str] = []
        for ep in _entry_points():
            info = PluginInfo(name=ep.name, module=ep.value)
            info.distribution, info.version = _distribution_of(ep)
            self.infos[ep.name] = info
            if ep.name in block:
                info.status, info.error = "blocked", "blocked by BELAY_DISABLE_PLUGINS"
            elif allow is not None and ep.name not in allow:
                info.status, info.error = "blocked", "not in BELAY_PLUGINS"
            else:
                selected.append(ep.name)

        failures: dict[str, BaseException] = {}

        def on_failure(_manager: Any, entry_point: metadata.EntryPoint, exc: BaseException) -> None:
            failures[entry_point.name] = exc

        extensions = NamedExtensionManager(
            namespace=GROUP,
            names=selected,
            on_load_failure_callback=on_failure,
            on_missing_entrypoints_callback=None,
        )
        for name, exc in failures.items():
            self._fail(self.infos[name], f"import failed: {_one_line(exc)}")
        loaded = set()
        for extension in extensions:
            loaded.add(extension.name)
            self.add(extension.name, extension.plugin, self.infos[extension.name])
        for name in set(selected) - loaded - set(failures):
            self._fail(self.infos[name], "stevedore did not find its entry point (a stale entry-point cache?)")

    # ------------------------------------------------------------------------------------------------
    # Queries
    # ------------------------------------------------------------------------------------------------

    def records(self, kind: str) -> dict[str, Record]:
        """Records of one kind (``"transports"``, ``"commands"``, ...) by name."""
        return self.registry[kind]

    def of(self, record_type: type[R]) -> dict[str, R]:
        """The records of one kind, typed: ``plugins.of(TransportRecord)`` by name."""
        kind = next(k for k, t in RECORD_TYPES.items() if t is record_type)
        return self.registry[kind]  # type: ignore[return-value]

    def get(self, kind: str, name: str) -> Record:
        """The record of ``kind`` named ``name``.

        Raises
        ------
        PluginError
            When none is registered, listing the names that are.
        """
        try:
            return self.registry[kind][name]
        except KeyError:
            known = ", ".join(sorted(self.registry[kind])) or "none"
            raise PluginError(f"no {kind[:-1]} named {name!r} is installed (installed: {known})") from None

    def transport_for(self, spec: str) -> TransportRecord:
        """The transport whose prefix matches ``spec`` (the longest match wins).

        Raises
        ------
        TransportNotFoundError
            Naming the installed transports and the plugin to install, when Belay knows one.
        """
        best: Optional[TransportRecord] = None
        best_len = -1
        for record in self.registry["transports"].values():
            assert isinstance(record, TransportRecord)
            for prefix in record.prefixes:
                if spec.startswith(prefix) and len(prefix) > best_len:
                    best, best_len = record, len(prefix)
        if best is not None:
            return best
        for record in self.registry["transports"].values():
            assert isinstance(record, TransportRecord)
            if record.pattern and re.search(record.pattern, spec):
                return record
        installed = [
            f"  {r.name}: {r.example or ', '.join(r.prefixes)}"
            for r in self.registry["transports"].values()
            if isinstance(r, TransportRecord)
        ]
        lines = [f"no installed transport handles the device spec {spec!r}."]
        hint = install_hint(spec)
        if hint:
            blocked = [i for i in self.infos.values() if i.distribution == hint and i.status != "ok"]
            if blocked:
                lines.append(f"{hint} is installed but {blocked[0].status}: {blocked[0].error}")
            else:
                lines.append(f"Install the transport for it: pip install {hint}")
        lines.append("Installed transports:" if installed else "No transport is installed.")
        lines.extend(installed)
        raise TransportNotFoundError("\n".join(lines))


LEGACY_OPTIONS = frozenset({"baudrate", "user", "password", "exclusive"})
"""The original belay's connection keywords: each goes to a transport that uses it and is ignored
elsewhere, as the original ignored ``baudrate`` for a network board."""


def open_transport(spec: str, *, plugins: Optional[Plugins] = None, **options: Any) -> Transport:
    """The transport for ``spec``, built (not yet open): the one place a transport is made.

    Parameters
    ----------
    spec
        A device spec.
    plugins
        The plugin set to look the transport up in; default the process-wide one (`get_plugins`).
    **options
        The transport's options. The original belay's ``baudrate``, ``user``, ``password`` and
        ``exclusive`` go only to a transport that takes them (in ``Transport.legacy_options`` or as
        keyword parameters of its ``__init__``).

    Raises
    ------
    TransportNotFoundError
        When no installed transport handles ``spec``.
    DeviceSpecError
        When the transport rejects ``spec`` or an option.
    """
    plugins = get_plugins() if plugins is None else plugins
    cls = plugins.transport_for(spec).load()
    if LEGACY_OPTIONS.intersection(options):
        used = set(getattr(cls, "legacy_options", ()))
        named = inspect.signature(cls.__init__).parameters.values()
        used.update(p.name for p in named if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
        options = {k: v for k, v in options.items() if k not in LEGACY_OPTIONS or k in used}
    transport: Transport = cls(spec, **options)
    return transport


def discover_boards(plugins: Plugins) -> list[str]:
    """Specs of attached boards found by the transports that discover (``Device()`` with no spec)."""
    found: list[str] = []
    for record in plugins.records("transports").values():
        if isinstance(record, TransportRecord) and record.discovers:
            found.extend(record.load().discover())
    return found


def load_plugins(environ: Optional[Mapping[str, str]] = None, *, strict: Optional[bool] = None) -> Plugins:
    """Load core's built-ins and every plugin found by entry point.

    Parameters
    ----------
    environ
        Where to read ``BELAY_PLUGINS``, ``BELAY_DISABLE_PLUGINS`` and ``BELAY_STRICT_PLUGINS`` (default
        `os.environ`).
    strict
        Raise on any plugin failure; default from ``BELAY_STRICT_PLUGINS``.

    Returns
    -------
    Plugins
    """
    environ = os.environ if environ is None else environ
    if strict is None:
        strict = environ.get("BELAY_STRICT_PLUGINS", "") not in ("", "0")
    plugins = Plugins(strict=strict)
    hooks = importlib.import_module("belay_core.hooks")

    plugins.add(
        CORE, hooks, PluginInfo(name=CORE, module=hooks.__name__, distribution="belay-core", version=__version__)
    )
    plugins.load_entry_points(environ)
    return plugins


_lock = threading.Lock()
_plugins: Optional[Plugins] = None


def get_plugins() -> Plugins:
    """The process-wide `Plugins`, loaded on first use (never at import time)."""
    global _plugins
    with _lock:
        if _plugins is None:
            _plugins = load_plugins()
        return _plugins


def reset_plugins() -> None:
    """Forget the process-wide `Plugins`, so the next `get_plugins` loads them again."""
    global _plugins
    with _lock:
        _plugins = None


__all__ = ["LEGACY_OPTIONS", "PluginInfo", "Plugins", "get_plugins", "load_plugins", "open_transport", "reset_plugins"]
