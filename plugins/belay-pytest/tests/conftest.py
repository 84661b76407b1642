"""Every belay-pytest test: claims in a folder of its own, and no board or fleet from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def lock_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Claims of these runs in a folder of their own (other test runs on this machine claim boards too)."""
    folder = tmp_path / "locks"
    monkeypatch.setenv("BELAY_LOCK_DIR", str(folder))
    for name in ("BELAY_DEVICE", "BELAY_FLEET", "BELAY_HOST"):
        monkeypatch.delenv(name, raising=False)
    return folder
