"""Errors of the telnet transport."""

from __future__ import annotations

from belay_core.errors import AuthenticationError as BoardAuthenticationError


class AuthenticationError(BoardAuthenticationError):
    """The board's telnet server refused the user name and password."""
