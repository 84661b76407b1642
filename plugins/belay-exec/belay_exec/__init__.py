"""Belay transport ``exec:COMMAND``: a subprocess whose stdin/stdout are the line to the board."""

from belay_exec._version import __version__

__all__ = ["__version__"]
