"""Registration of the ``github`` and ``gitlab`` downloaders (import-light: nothing but core records).

The schemes include the web base URLs configured by ``BELAY_GITHUB_URL``, ``BELAY_GITHUB_RAW_URL`` and
``BELAY_GITLAB_URL`` (read when plugins load), so a GitHub Enterprise or self-hosted GitLab works too::

    >>> [record.name for record in belay_register_downloaders()]
    ['github', 'gitlab']
"""

from __future__ import annotations

import os

from belay_core import hookimpl
from belay_core.records import DownloaderRecord

GITHUB_WEB = ("https://github.com/", "https://raw.githubusercontent.com/")
"""GitHub's web and raw-file bases, always handled."""

GITLAB_WEB = ("https://gitlab.com/",)
"""GitLab's web base, always handled."""


def _configured(*names: str) -> tuple[str, ...]:
    """The base URLs set in the environment variables ``names``, each with one trailing ``/``."""
    return tuple(os.environ[name].rstrip("/") + "/" for name in names if os.environ.get(name, "").strip())


def _unique(schemes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(schemes))


@hookimpl
def belay_register_downloaders() -> list[DownloaderRecord]:
    """The ``github:`` and ``gitlab:`` downloaders, also for the hosts' web URLs."""
    return [
        DownloaderRecord(
            "github",
            "belay_github.download:GitHubDownloader",
            "GitHub files, folders and package.json at a commit: github:OWNER/REPO[/PATH][@REF], web URLs.",
            schemes=_unique(("github:", *GITHUB_WEB, *_configured("BELAY_GITHUB_URL", "BELAY_GITHUB_RAW_URL"))),
        ),
        DownloaderRecord(
            "gitlab",
            "belay_github.download:GitLabDownloader",
            "GitLab files, folders and package.json at a commit: gitlab:OWNER/REPO[/PATH][@REF], web URLs.",
            schemes=_unique(("gitlab:", *GITLAB_WEB, *_configured("BELAY_GITLAB_URL"))),
        ),
    ]
