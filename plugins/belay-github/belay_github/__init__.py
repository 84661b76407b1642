"""Belay downloader for GitHub and GitLab: ``github:owner/repo[/path][@ref]``, ``gitlab:...`` and web URLs.

The downloaders live in `belay_github.download`, imported only when a GitHub or GitLab source is installed.
"""

from belay_github._version import __version__

__all__ = ["__version__"]
