"""Belay transport ``ws://HOST[:PORT]``: a MicroPython board's WebREPL.

Importing this package does not import the websocket library; the transport is loaded on first use.
"""

from belay_webrepl._version import __version__
from belay_webrepl.errors import AuthenticationError
from belay_webrepl.files import get, put

__all__ = ["AuthenticationError", "__version__", "get", "put"]
