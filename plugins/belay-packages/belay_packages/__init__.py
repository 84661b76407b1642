"""Belay's package manager: projects with ``[tool.belay]``, ``belay.lock``, downloaders and their commands.

The parts, each imported only when used (``belay --help`` imports none of them):

- `belay_packages.project`: the ``[tool.belay]`` configuration in ``pyproject.toml``;
- `belay_packages.lock`: ``belay.lock``;
- `belay_packages.manager`: resolve, lock, keep on disk and stage a project's dependencies (`Project`);
- `belay_packages.downloaders`: the downloader base classes and the ``local``, ``http`` and ``index`` ones;
- `belay_packages.web` and `belay_packages.cache`: the HTTP client with retries and the download cache;
- `belay_packages.commands`: ``belay new``, ``init``, ``add``, ``install``, ``update``, ``lock``, ``clean``,
  ``cache`` and ``run-local`` (which ``belay run --local`` runs);
- `belay_packages.testing`: a local HTTP server and a fake package index for tests;
- `belay_packages.errors`: its errors, also exported here (`ConfigError`, `LockError`, `DownloadError`,
  `NotFoundError`, `IntegrityError`).
"""

from belay_packages._version import __version__
from belay_packages.errors import ConfigError, DownloadError, IntegrityError, LockError, NotFoundError

__all__ = ["ConfigError", "DownloadError", "IntegrityError", "LockError", "NotFoundError", "__version__"]
