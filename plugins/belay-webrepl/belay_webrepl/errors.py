"""Errors of the WebREPL transport (import-light: no websocket library)."""

from __future__ import annotations

from belay_core.errors import AuthenticationError as BoardAuthenticationError


class AuthenticationError(BoardAuthenticationError):
    """The board's WebREPL refused the password (it answered ``Access denied``), or none was given."""
