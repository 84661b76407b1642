"""Belay hashers ``native-fnv1a32``, ``viper-fnv1a32`` and ``mpy-fnv1a32``: FNV-1a 32 fast on the board."""

from belay_hashers._version import __version__

__all__ = ["__version__"]
