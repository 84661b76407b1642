"""Test helpers for Belay's plugins.

The local HTTP server that serves downloads and package indices to tests is the package manager's:
`belay_packages.testing` (distribution belay-packages).
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType


def import_beside(test_file: str, module_file: str, name: str) -> ModuleType:
    """Import the helper module ``module_file`` that sits beside ``test_file`` (a conftest), as ``name``.

    Tests run with ``--import-mode=importlib``, so a tests folder is not on ``sys.path``::

        fake_hosts = import_beside(__file__, "fake_hosts.py", "belay_github_fake_hosts")
    """
    import importlib.util

    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(test_file).with_name(module_file))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


__all__ = ["import_beside"]
