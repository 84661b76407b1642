"""Registration of the fast hashers (import-light: the classes are imported on first use)."""

from __future__ import annotations

from belay_core import hookimpl
from belay_core.records import HasherRecord


@hookimpl
def belay_register_hashers() -> list[HasherRecord]:
    """FNV-1a 32 as a prebuilt ``.mpy``, in viper code and in native code."""
    return [
        HasherRecord(
            "mpy-fnv1a32", "belay_hashers.fnv1a32:MpyFNV1a32Hasher", "FNV-1a 32 as a prebuilt viper .mpy module."
        ),
        HasherRecord("viper-fnv1a32", "belay_hashers.fnv1a32:ViperFNV1a32Hasher", "FNV-1a 32 in viper code."),
        HasherRecord("native-fnv1a32", "belay_hashers.fnv1a32:NativeFNV1a32Hasher", "FNV-1a 32 in native code."),
    ]
