"""Belay: drive MicroPython and CircuitPython boards from host Python."""

from belay_core._version import __version__

__all__ = ["__version__"]
