"""Which of Belay's own plugin distributions provides what: the install hints, as data in one place.

When a device spec has no installed transport, a ``belay`` command is not registered, or no
downloader handles a dependency source, Belay looks here to name the distribution to install
(`belay_core.plugins.Plugins.transport_for`, the ``belay`` command line and the package manager's
`DownloadContext` use it). Only Belay's own plugins are listed; a third-party plugin's names are
unknown until it is installed.

Examples
--------
>>> transport_distribution("ws://192.168.4.1")
'belay-webrepl'
>>> command_distribution("install")
'belay-packages'
"""

from __future__ import annotations

import re
from typing import Optional

TRANSPORTS: tuple[tuple[str, str], ...] = (
    (r"^wss?://", "belay-webrepl"),
    (r"^telnet://|^\d[\d.]*(:\d*)?$", "belay-telnet"),
    (r"^/dev/|^COM\d+$|^usb:|^\{", "belay-serial"),
    (r"^emu:", "belay-emulator"),
    (r"^exec:", "belay-exec"),
)
"""Device-spec patterns (regular expressions) of the transports Belay's own plugins provide, and the
distribution of each."""

COMMANDS: dict[str, str] = {
    "new": "belay-packages",
    "init": "belay-packages",
    "add": "belay-packages",
    "install": "belay-packages",
    "update": "belay-packages",
    "lock": "belay-packages",
    "clean": "belay-packages",
    "cache": "belay-packages",
    "run-local": "belay-packages",
    "devices": "belay-serial",
    "select": "belay-serial",
    "mpy-cross": "belay-mpy-cross",
    "serve": "belay-telnet",
}
"""``belay`` commands that Belay's own plugins register, and the distribution of each."""


EXPORTS: dict[str, str] = {"UsbSpecifier": "belay-serial", "list_devices": "belay-serial"}
"""Names of ``belay_core`` that Belay's own plugins export (``belay_register_exports``: the original
belay's), and the distribution of each."""


DOWNLOADERS: tuple[tuple[tuple[str, ...], str], ...] = ((("github:", "gitlab:"), "belay-github"),)
"""Dependency-source schemes of the downloaders Belay's own plugins add to the package manager's, and
the distribution of each."""


def transport_distribution(spec: str) -> Optional[str]:
    """The distribution of Belay's that provides a transport for ``spec``, or ``None``."""
    for pattern, distribution in TRANSPORTS:
        if re.search(pattern, spec):
            return distribution
    return None


def command_distribution(name: str) -> Optional[str]:
    """The distribution of Belay's that registers the ``belay`` command ``name``, or ``None``."""
    return COMMANDS.get(name)


def downloader_distribution(source: str) -> Optional[tuple[tuple[str, ...], str]]:
    """The schemes and distribution of Belay's downloader plugin for the dependency ``source``, or ``None``.

    >>> downloader_distribution("github:user/repo/x.py@v1")
    (('github:', 'gitlab:'), 'belay-github')
    """
    lowered = source.lower()
    for schemes, distribution in DOWNLOADERS:
        if lowered.startswith(schemes):
            return schemes, distribution
    return None


__all__ = [
    "COMMANDS",
    "DOWNLOADERS",
    "EXPORTS",
    "TRANSPORTS",
    "command_distribution",
    "downloader_distribution",
    "transport_distribution",
]
