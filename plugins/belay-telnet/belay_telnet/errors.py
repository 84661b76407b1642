"""Errors of the telnet transport."""

from __future__ import annotations

from belay_core.errors import BelayError


class AuthenticationError(BelayError):
    """The board's telnet server refused the user name and password."""
