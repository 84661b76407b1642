"""The package manager's errors, each a `belay_core.BelayError` (import-light: no httpx, no pydantic)."""

from __future__ import annotations

from typing import Optional

from belay_core.errors import BelayError


class ConfigError(BelayError):
    """``pyproject.toml`` is missing or its ``[tool.belay]`` section is invalid."""


class LockError(BelayError):
    """``belay.lock`` is unreadable, or disagrees with ``pyproject.toml`` or with downloaded files."""


class DownloadError(BelayError):
    """A dependency could not be downloaded.

    Parameters
    ----------
    message
        What went wrong, naming the URL or source.
    status
        The HTTP status of the last answer, when there was one.
    headers
        That answer's headers (lower-case names).
    """

    def __init__(self, message: str, status: Optional[int] = None, headers: Optional[dict[str, str]] = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


class NotFoundError(DownloadError):
    """The server answered 404 (or 410): the thing does not exist there."""


class IntegrityError(DownloadError):
    """Downloaded content does not match the hash it must have."""


__all__ = ["ConfigError", "DownloadError", "IntegrityError", "LockError", "NotFoundError"]
