"""Each worker's board gets lib/ once (only what changed), then every test uses it."""

from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "lib"


@pytest.fixture(scope="session")
def board(belay_device):
    belay_device.sync(LIB, dst="/lib")
    belay_device("import sys; sys.path.append('/lib')")
    return belay_device
