"""The telnet transport's tests never take credentials from the environment unless they set them."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_credentials_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BELAY_USER", raising=False)
    monkeypatch.delenv("BELAY_PASSWORD", raising=False)
