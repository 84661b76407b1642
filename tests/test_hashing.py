"""Hashers: core's portable FNV-1a 32 on every emulated board, selection, fallback and batch hashing."""

from __future__ import annotations

import logging
import random
from types import SimpleNamespace

import attrs
import pytest

from belay_core import Device
from belay_core.errors import BelayError
from belay_core.hashing import (
    CHECK_DATA,
    CHECK_PATH,
    FNV1a32Hasher,
    Hasher,
    check_hasher,
    fnv1a32,
    fnv1a32_source,
    hash_board_files,
    host_hash_file,
    select_hasher,
)
from belay_core.plugins import get_plugins

SAMPLES = {"empty": (0, 0), "one": (1, 5), "random": (1000, 7), "tenk": (10 * 1024, 0)}
"""Test files as ``(size, seed)``: made on the board, so no long input crosses the micro:bit's lossy line."""

_MAKE = """\
def __belay_mk(p,n,s):
 f=open(p,'wb');b=bytearray(64);x=s;i=0
 while i<n:
  k=min(64,n-i)
  for j in range(k):
   if s:x=(x*75+74)%65537;b[j]=x&255
   else:b[j]=(i+j)&255
  f.write(b if k==64 else b[:k]);i+=k
 f.close()
"""
"""Board side of `_sample`: a ramp (``s == 0``) or the bytes of a small-int LCG seeded with ``s``."""


def _sample(size: int, seed: int) -> bytes:
    """The bytes ``__belay_mk(path, size, seed)`` writes on the board."""
    out = bytearray()
    x = seed
    for i in range(size):
        if seed:
            x = (x * 75 + 74) % 65537
            out.append(x & 255)
        else:
            out.append(i & 255)
    return bytes(out)


def _name(device: Device, name: str) -> str:
    """A board path for a test file: the micro:bit's filesystem is flat and has no ``/``."""
    return name if device.implementation.platform == "microbit" else f"/{name}"


def _put(device: Device, path: str, data: bytes) -> None:
    """Write a board file in pieces small enough for the micro:bit's heap."""
    device.run_statements(f"__t=open({path!r},'wb')")
    for start in range(0, len(data), 192):
        device.run_statements(f"__t.write({data[start : start + 192]!r})")
    device.run_statements("__t.close()\ndel __t")


def _put_samples(device: Device) -> dict[str, bytes]:
    files = {}
    device.run_statements(_MAKE)
    for name, (size, seed) in SAMPLES.items():
        path = _name(device, f"h_{name}.bin")
        device.run_statements(f"__belay_mk({path!r},{size},{seed})")
        files[path] = _sample(size, seed)
    device.run_statements("del __belay_mk")
    return files


def _listdir(device: Device) -> list[str]:
    return device.evaluate("__import__('os').listdir()")


class _Named(FNV1a32Hasher):
    """Core's hasher under another name and priority, base of the broken ones."""

    name = "named"
    priority = 50


class _WrongHost(_Named):
    name = "wrong-host"
    priority = 100

    def host_hash(self, data: bytes) -> int:
        return fnv1a32(data) ^ 1


class _BoardRaises(_Named):
    name = "board-raises"
    priority = 90

    def board_code(self, impl) -> str:
        return "def __belay_hash(p):\n raise ValueError('broken on purpose')\n"


class _BadSyntax(_Named):
    name = "bad-syntax"
    priority = 85

    def board_code(self, impl) -> str:
        return "def __belay_hash(p) oops\n"


class _Unsupported(_Named):
    name = "unsupported"
    priority = 80

    def supported(self, impl) -> str | None:
        return "needs a firmware that does not exist"


def test_host_fnv1a32_known_vectors():
    assert fnv1a32(b"") == 0x811C9DC5
    assert fnv1a32(b"a") == 0xE40C292C
    assert fnv1a32(b"foobar") == 0xBF9CF968
    assert fnv1a32(b"bar", fnv1a32(b"foo")) == fnv1a32(b"foobar")
    assert FNV1a32Hasher().host_hash(b"foobar") == 0xBF9CF968


def test_host_hash_file(tmp_path):
    path = tmp_path / "f.bin"
    data = random.Random(7).randbytes(1000)
    path.write_bytes(data)
    assert host_hash_file(FNV1a32Hasher(), path) == fnv1a32(data)
    assert host_hash_file(FNV1a32Hasher(), str(path)) == fnv1a32(data)


def test_core_registers_the_portable_hasher():
    record = get_plugins().records("hashers")["fnv1a32"]
    assert record.load() is FNV1a32Hasher
    assert record.summary
    hasher = FNV1a32Hasher()
    assert hasher.name == "fnv1a32"
    assert hasher.priority == 0


def test_samples_are_made_on_the_board_as_on_the_host(device):
    files = _put_samples(device)
    assert len(set(files.values())) == len(SAMPLES)
    for path, data in files.items():
        if data:
            assert device.evaluate(f"open({path!r},'rb').read(3)") == data[:3]


def test_portable_hasher_on_every_board(device):
    files = _put_samples(device)
    hasher = select_hasher(device, candidates=["fnv1a32"])
    assert isinstance(hasher, FNV1a32Hasher)
    board = hash_board_files(device, list(files))
    assert board == {path: fnv1a32(data) for path, data in files.items()}


def test_both_formulations_agree_with_host_on_every_board(device):
    """The split 16-bit form (32-bit ports) and the plain form (64-bit, big heaps) are both right anywhere."""
    files = _put_samples(device)
    impl = device.implementation
    for variant in (attrs.evolve(impl, arch=None, platform="microbit"), attrs.evolve(impl, arch="x64")):
        source = fnv1a32_source(variant)
        device.run_statements(source)
        for path, data in files.items():
            assert device.evaluate(f"__belay_hash({path!r})") == fnv1a32(data), (source, path)


def test_check_file_is_removed_and_helpers_hash_many_in_one_round_trip(device):
    before = _listdir(device)
    assert select_hasher(device, candidates=[FNV1a32Hasher]).name == "fnv1a32"
    assert CHECK_PATH.lstrip("/") not in _listdir(device)
    assert _listdir(device) == before
    path = _name(device, "h_one.bin")
    _put(device, path, b"\x00")
    trips = device.round_trips
    hashes = hash_board_files(device, [path, _name(device, "h_missing.bin")])
    assert device.round_trips == trips + 1
    assert hashes == {path: fnv1a32(b"\x00")}
    assert hash_board_files(device, []) == {}
    assert device.round_trips == trips + 1


def test_broken_hashers_are_skipped_with_logged_reasons(device, caplog):
    messages: list[str] = []
    caplog.set_level(logging.INFO, logger="belay_core.hashing")
    chosen = select_hasher(
        device,
        log=messages.append,
        candidates=[FNV1a32Hasher(), _Unsupported, _BadSyntax, _BoardRaises, _WrongHost],
    )
    assert chosen.name == "fnv1a32"
    text = "\n".join(messages)
    assert "'wrong-host' skipped: wrong result on the board" in text
    assert "'board-raises' skipped" in text and "broken on purpose" in text
    assert "'bad-syntax' skipped" in text and "SyntaxError" in text
    assert "'unsupported' skipped: unsupported: needs a firmware that does not exist" in text
    assert [m for m in messages if "skipped" in m] == [r.getMessage() for r in caplog.records if "skipped" in r.msg]
    assert [m.split("'")[1] for m in messages if "skipped" in m] == [
        "wrong-host",
        "board-raises",
        "bad-syntax",
        "unsupported",
    ]
    assert CHECK_PATH.lstrip("/") not in _listdir(device)
    # the broken board code was replaced: the chosen hasher is the one installed
    assert device.evaluate(f"__belay_hc({_name(device, 'h_c.bin')!r},{CHECK_DATA!r})") == fnv1a32(CHECK_DATA)


def test_no_working_hasher_raises_naming_each_reason():
    impl = _impl()

    class FakeDevice:
        implementation = impl
        plugins = get_plugins()

    with pytest.raises(BelayError, match=r"no hasher works.*unsupported: needs a firmware"):
        select_hasher(FakeDevice(), candidates=[_Unsupported])  # type: ignore[arg-type]
    reason = check_hasher(FakeDevice(), _Unsupported())  # type: ignore[arg-type]
    assert reason == "unsupported: needs a firmware that does not exist"


def test_hasher_base_is_abstract_and_named():
    class Half(Hasher):
        name = "half"

    with pytest.raises(NotImplementedError):
        Half().board_code(_impl())
    with pytest.raises(NotImplementedError):
        Half().host_hash(b"")
    assert Half().supported(_impl()) is None
    assert repr(Half()) == "<Half 'half'>"


def test_hasher_given_by_unknown_spec_is_an_error():
    with pytest.raises(TypeError):
        select_hasher(SimpleNamespace(plugins=get_plugins()), candidates=[42])  # type: ignore[arg-type, list-item]


def _impl():
    from belay_core.device import Implementation

    return Implementation(name="micropython", version=(1, 27, 0), platform="rp2")
