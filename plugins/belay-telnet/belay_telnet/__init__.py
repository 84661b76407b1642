"""Belay transport ``telnet://host[:port]``: a board's telnet REPL over TCP (bare ``a.b.c.d[:port]`` too)."""

from belay_telnet._version import __version__
from belay_telnet.errors import AuthenticationError

__all__ = ["AuthenticationError", "__version__"]
