"""Files on the board: transfer (``put``/``get``) and the queries the ``belay fs`` commands use."""

from __future__ import annotations


class FilesMixin:
    """File methods of `belay_core.Device`."""
