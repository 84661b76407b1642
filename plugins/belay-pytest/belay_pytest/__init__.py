"""pytest fixtures for boards driven by Belay: ``pip install belay-pytest``, then ``pytest --belay-device SPEC``.

The plugin (`belay_pytest.plugin`) gives `belay_device`, `belay_devices` and `belay_device_factory`, the
``@pytest.mark.belay(...)`` marker, board output and tracebacks in failure reports, and a fleet of
boards over pytest-xdist (``pytest -n auto --belay-fleet boards.toml``). This package also has the
helpers for several boards in one test: `run_on_all` and what it returns.
"""

from __future__ import annotations

from typing import Any

from belay_pytest._version import __version__
from belay_pytest.together import Boards, BoardsFailed, Outcome, Outcomes, run_on_all


def __getattr__(name: str) -> Any:
    if name in ("Board", "FleetError", "read_fleet"):  # pydantic: imported when used
        from belay_pytest import fleet

        return getattr(fleet, name)
    raise AttributeError(f"module 'belay_pytest' has no attribute {name!r}")


__all__ = [
    "Board",
    "Boards",
    "BoardsFailed",
    "FleetError",
    "Outcome",
    "Outcomes",
    "__version__",
    "read_fleet",
    "run_on_all",
]
