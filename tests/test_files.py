"""File transfer and file queries on every emulated board: binary round trips, folders, errors."""

from __future__ import annotations

import os
import random

import pytest

from belay_core import Device, FeatureUnavailableError
from belay_core.files import (
    BoardFileExistsError,
    BoardFileNotFoundError,
    BoardNotADirectoryError,
    BoardPathError,
    FileInfo,
    bytes_literal,
)

ALL_BYTES = bytes(range(256))


def _flat(device: Device) -> bool:
    return device.implementation.platform == "microbit"


def _random(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size) if hasattr(random.Random, "randbytes") else os.urandom(size)


@pytest.mark.parametrize(
    "data", [b"", ALL_BYTES, b"\x00" + b"01234567", b"\\'\"\r\n\t\x7f", bytes(range(256))[::-1] + b"7\x007"]
)
def test_bytes_literal_round_trips_in_cpython(data):
    assert eval(bytes_literal(data)) == data


def test_bytes_literal_is_compact_for_text():
    assert bytes_literal(b"hello world") == "b'hello world'"
    assert len(bytes_literal(b"\x00\x01")) == len("b'\\0\\1'")


def test_all_byte_values_round_trip(device, tmp_path):
    local = tmp_path / "all.bin"
    local.write_bytes(ALL_BYTES * 2)
    device.put(local, "all.bin")
    back = tmp_path / "back.bin"
    device.get("all.bin", back)
    assert back.read_bytes() == ALL_BYTES * 2
    assert device.read_bytes("all.bin") == ALL_BYTES * 2


def test_empty_file_round_trips(device, tmp_path):
    local = tmp_path / "empty.bin"
    local.write_bytes(b"")
    device.put(local, "empty.bin")
    assert device.size("empty.bin") == 0
    back = tmp_path / "back"
    device.get("empty.bin", back)
    assert back.read_bytes() == b""


def test_random_file_round_trips(device, tmp_path):
    size = 1024 if _flat(device) else 100 * 1024
    data = _random(size)
    device.write_bytes("random.bin", data)
    assert device.size("random.bin") == size
    assert device.read_bytes("random.bin") == data


def test_large_put_uses_few_execs(tree_device, tmp_path):
    local = tmp_path / "big.bin"
    local.write_bytes(_random(100 * 1024, seed=2))
    before_trips, before_bytes = tree_device.round_trips, tree_device.bytes_written
    tree_device.put(local, "/big.bin")
    assert tree_device.round_trips - before_trips <= 8
    assert tree_device.bytes_written - before_bytes < 100 * 1024 * 1.4  # base64, not one repr per 256 bytes
    before_trips = tree_device.round_trips
    tree_device.get("/big.bin", tmp_path / "back.bin")
    assert tree_device.round_trips - before_trips <= 8
    assert (tmp_path / "back.bin").read_bytes() == local.read_bytes()


def test_text_helpers(device):
    device.write_text("note.txt", "héllo\n")
    assert device.read_text("note.txt") == "héllo\n"


def test_progress_reports_every_file(device, tmp_path):
    data = _random(700 if _flat(device) else 40 * 1024, seed=3)
    local = tmp_path / "p.bin"
    local.write_bytes(data)
    calls = []
    device.put(local, "p.bin", progress=lambda *args: calls.append(args))
    assert calls[0] == (calls[0][0], 0, len(data))
    assert calls[-1][1:] == (len(data), len(data))
    assert calls[0][0].endswith("p.bin")
    done = [c[1] for c in calls]
    assert done == sorted(done)
    got = []
    device.get("p.bin", tmp_path / "back.bin", progress=lambda *args: got.append(args))
    assert got[0][1:] == (0, len(data)) and got[-1][1:] == (len(data), len(data))


def test_nested_folder_round_trips(tree_device, tmp_path):
    source = tmp_path / "src"
    (source / "lib" / "deep").mkdir(parents=True)
    (source / "empty").mkdir()
    (source / "main.py").write_text("print('hi')\n")
    (source / "lib" / "all.bin").write_bytes(ALL_BYTES)
    (source / "lib" / "deep" / "big.bin").write_bytes(_random(20 * 1024, seed=4))
    (source / "lib" / "deep" / "zero.bin").write_bytes(b"")
    written = tree_device.put(source, "/app")
    assert sorted(written) == ["/app/lib/all.bin", "/app/lib/deep/big.bin", "/app/lib/deep/zero.bin", "/app/main.py"]
    names = [e.path for e in tree_device.walk("/app")]
    assert names == [
        "/app/empty",
        "/app/lib",
        "/app/lib/all.bin",
        "/app/lib/deep",
        "/app/lib/deep/big.bin",
        "/app/lib/deep/zero.bin",
        "/app/main.py",
    ]
    back = tmp_path / "back"
    tree_device.get("/app", back)
    for file in source.rglob("*"):
        copy = back / file.relative_to(source)
        assert copy.exists(), copy
        if file.is_file():
            assert copy.read_bytes() == file.read_bytes()


def test_put_file_into_existing_directory(tree_device, tmp_path):
    local = tmp_path / "x.py"
    local.write_text("x = 1\n")
    tree_device.mkdir("/d")
    assert tree_device.put(local, "/d") == ["/d/x.py"]
    assert tree_device.put(local, "/new/") == ["/new/x.py"]
    assert tree_device.read_text("/new/x.py") == "x = 1\n"


def test_listdir_names_types_and_sizes(device):
    device.write_bytes("a.bin", b"12345")
    entries = device.listdir("/")
    assert FileInfo("/a.bin", "a.bin", False, 5) in entries
    if not _flat(device):
        device.mkdir("/sub")
        device.write_bytes("/sub/b.bin", b"1")
        entries = device.listdir("/")
        assert FileInfo("/sub", "sub", True, 0) in entries
        assert device.listdir("/sub") == [FileInfo("/sub/b.bin", "b.bin", False, 1)]


def test_exists_and_remove(device):
    device.write_bytes("gone.bin", b"x")
    assert device.exists("gone.bin")
    device.remove("gone.bin")
    assert not device.exists("gone.bin")
    assert not device.exists("never.bin")


def test_remove_directories(tree_device):
    tree_device.mkdir("/t/a/b", parents=True)
    tree_device.write_bytes("/t/a/b/f.bin", b"data")
    with pytest.raises(BoardPathError) as info:
        tree_device.remove("/t")
    assert info.value.filename == "/t"
    tree_device.remove("/t", recursive=True)
    assert not tree_device.exists("/t")
    tree_device.mkdir("/e")
    tree_device.remove("/e")
    assert not tree_device.exists("/e")


def test_mkdir(tree_device):
    tree_device.mkdir("/m")
    assert tree_device.is_dir("/m")
    with pytest.raises(BoardFileExistsError):
        tree_device.mkdir("/m")
    tree_device.mkdir("/m", parents=True)  # like mkdir -p: fine
    with pytest.raises(BoardFileNotFoundError):
        tree_device.mkdir("/x/y")
    tree_device.mkdir("/x/y/z", parents=True)
    assert tree_device.is_dir("/x/y/z")


def test_missing_paths_raise_file_not_found_naming_them(device, tmp_path):
    for call in (
        lambda: device.read_bytes("missing.bin"),
        lambda: device.get("missing.bin", tmp_path / "m"),
        lambda: device.remove("missing.bin"),
        lambda: device.size("missing.bin"),
        lambda: device.listdir("missing"),
    ):
        with pytest.raises(FileNotFoundError) as info:
            call()
        assert "missing" in str(info.value)
        assert isinstance(info.value, BoardFileNotFoundError)
    with pytest.raises(FileNotFoundError):
        device.put(tmp_path / "not-here", "x")


def test_listdir_of_a_file(tree_device):
    tree_device.write_bytes("/f.bin", b"1")
    with pytest.raises(BoardNotADirectoryError):
        tree_device.listdir("/f.bin")


def test_df(device):
    if _flat(device):
        with pytest.raises(FeatureUnavailableError, match="microbit"):
            device.df()
        return
    usage = device.df()
    assert usage.total > 0 and 0 <= usage.free <= usage.total and usage.used == usage.total - usage.free


def test_helpers_are_freed(device, tmp_path):
    device.write_bytes("h.bin", b"abc")
    device.read_bytes("h.bin")
    device.listdir("/")
    names = (
        "('__belay_F','__belay_Z','__belay_T','__belay_W','__belay_X','__belay_D','__belay_E','__belay_G','__belay_P')"
    )
    left = device(f"[n for n in {names} if n in dir(__import__('__main__'))]")
    assert left == []


def test_folders_fail_clearly_on_flat_firmware(tmp_path):
    board = "emu:microbit"
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    with Device(board, timeout=30) as device:
        for call in (
            lambda: device.put(folder, "/"),
            lambda: device.mkdir("lib"),
            lambda: device.write_bytes("lib/a.txt", b"a"),
            lambda: device.listdir("/lib/sub"),
            lambda: device.get("lib/a.txt", tmp_path / "a.txt"),
        ):
            with pytest.raises(FeatureUnavailableError, match=r"micropython 1\.9\.2 on microbit"):
                call()
        device.put(folder / "a.txt", "/")  # a single file at the root works
        assert device.read_bytes("/a.txt") == b"a"
        assert [e.name for e in device.listdir()] == ["a.txt"]


def test_transfers_from_several_threads_on_one_device_do_not_mix(tree_device, tmp_path):
    # Each transfer is many calls on the board (helpers, chunks, cleanup): they are serialised like calls.
    import random
    import threading

    errors: list[str] = []

    def work(i: int) -> None:
        data = random.Random(i).randbytes(12_000)
        local = tmp_path / f"f{i}.bin"
        local.write_bytes(data)
        try:
            for _ in range(2):
                tree_device.put(local, f"/f{i}.bin")
                assert tree_device.files.read_bytes(f"/f{i}.bin") == data
                tree_device.get(f"/f{i}.bin", tmp_path / f"back{i}.bin")
                assert (tmp_path / f"back{i}.bin").read_bytes() == data
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_board_links_are_followed_by_get_walk_and_sync(tmp_path):
    # A link to a folder on the board (the unix port's filesystem is the host's) once failed `get`
    # with EISDIR naming another file.
    fs = tmp_path / "fs"
    (fs / "dir" / "sub").mkdir(parents=True)
    (fs / "dir" / "sub" / "a.txt").write_text("a")
    (fs / "dir" / "link").symlink_to(fs / "dir" / "sub", target_is_directory=True)
    (fs / "dir" / "file_link").symlink_to(fs / "dir" / "sub" / "a.txt")
    with Device(f"emu:unix?fs={fs}") as device:
        got = device.get("/dir", tmp_path / "out")
        assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in got) == [
            "file_link",
            "link/a.txt",
            "sub/a.txt",
        ]
        assert (tmp_path / "out" / "file_link").read_text() == "a"
        walked = {info.path: (info.is_dir, info.size) for info in device.files.walk("/dir")}
        assert walked["/dir/link"] == (True, 0) and walked["/dir/file_link"] == (False, 1)
        host = tmp_path / "host"
        (host / "link").mkdir(parents=True)
        (host / "link" / "a.txt").write_text("a")
        plan = device.sync(host, dst="/dir")
        assert "/dir/link/a.txt" in plan.unchanged


def test_a_reconnect_in_the_middle_of_a_put_redoes_it_whole(tmp_path):
    # Once the next chunk failed with NameError: __belay_F and a truncated file stayed on the board.
    import os
    import random

    fs = tmp_path / "fs"
    fs.mkdir()
    data = random.Random(1).randbytes(200_000)
    local = tmp_path / "big.bin"
    local.write_bytes(data)
    with Device(f"emu:unix?fs={fs}", attempts=2) as device:
        seen: list[int] = []

        def progress(path: str, done: int, total: int) -> None:
            seen.append(done)
            if len(seen) == 3:  # the line breaks with the file half written
                os.killpg(device.session.transport.process.pid, 9)

        device.put(local, "/big.bin", progress=progress)
        assert (fs / "big.bin").read_bytes() == data
        assert device.files.read_bytes("/big.bin") == data
