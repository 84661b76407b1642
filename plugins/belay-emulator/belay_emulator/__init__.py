"""Real MicroPython boards with no hardware, served as a serial line on stdin/stdout."""

from belay_emulator._version import __version__

__all__ = ["__version__"]
